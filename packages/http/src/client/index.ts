// The HTTP client. This file only re-exports.
export { fetch, type RequestInit } from "./fetch.js";
export { ClientResponse, type BodyReadOptions } from "./response.js";
export { ResponseHeaders } from "./headers.js";
export { Agent, Pool, defaultAgent, type AgentOptions } from "./pool.js";
export { DEFAULT_CLIENT_LIMITS, resolveClientLimits, type ClientLimits } from "./limits.js";
export { ConnectFailedError, ResponseResetError, ResponseTimeoutError, TooManyRedirectsError, type TimeoutPhase } from "./errors.js";
export { serializeRequestHead, type RequestHeadersInit, type BodyFraming, type RequestHeadInit } from "./request-head.js";
export type { RequestBody, BodyChunk, BodyWriter } from "./body.js";
export { parseTarget, type Target } from "./target.js";
