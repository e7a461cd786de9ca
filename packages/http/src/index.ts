/**
 * @skein/http — the public API. This file only re-exports.
 *
 * @module
 */
export { compose, RESPONSE_STATE, type App, type ForwardedClient, type HeadersView, type Middleware, type ReadAllOptions, type Request, type Response, type ResponseOutcome, type ResponseState, type Takeover } from "./app.js";
export { HttpServer, serve, type CloseOptions, type ServeOptions } from "./server.js";
export { Prepared } from "./prepared.js";
export { Router } from "./router.js";
export { accessLog, type AccessLogEntry, type AccessLogOptions } from "./access-log.js";
export { proxyHeaders, type ProxyHeadersOptions } from "./proxy-headers.js";
export { toNodeListener, type NodeListener, type NodeListenerOptions } from "./node.js";
export { BaseRequest, ServerRequest } from "./request.js";
export { ServerResponse } from "./response.js";
export { HeaderFields, RequestHeaders } from "./headers.js";
export { DEFAULT_LIMITS, resolveLimits, type HttpLimits } from "./limits.js";
export { HttpError, HttpParseError, HTTP_ERROR_STATUS, type HttpErrorCode } from "./errors.js";
export { STATUS_TEXT, statusText } from "./status.js";
export { httpDate } from "./date.js";
export { serializeFields, type HeaderInit } from "./response-head.js";
export * from "./constants.js";
export { HttpParser, MessageHead, PARSER_STATE, type ParserEvents, type ParserKind, type ParserLimits, type ParserState } from "./llhttp/index.js";
// The HTTP client and the pipelining load generator.
export * from "./client/index.js";
export * from "./load/index.js";
