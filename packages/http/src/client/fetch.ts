/**
 * `fetch`: one HTTP/1.1 request as an operation, over a keep-alive pool.
 *
 * @module
 */
import { isCancelled } from "@skein/core";
import { isReplayable, framingOf, type RequestBody } from "./body.js";
import { deadlineIn, within, type Deadline } from "./deadline.js";
import { ResponseResetError, TooManyRedirectsError } from "./errors.js";
import { resolveClientLimits, type ClientLimits } from "./limits.js";
import { defaultAgent, type Agent } from "./pool.js";
import { forEachHeader, serializeRequestHead, type RequestHeadersInit } from "./request-head.js";
import { ClientResponse } from "./response.js";
import { parseTarget, type Target } from "./target.js";

/** Options of one request. Limits not given come from the agent. */
export interface RequestInit extends Partial<Omit<ClientLimits, "connectionsPerOrigin" | "idleTimeoutMs" | "maxResponseHeadBytes" | "maxBufferedBodyBytes">> {
  /** Default "GET". */
  method?: string;
  headers?: RequestHeadersInit;
  /** Fixed bytes (Content-Length), or an iterable / writer coroutine (chunked). */
  body?: RequestBody;
  /** `"manual"` (default): a 3xx is returned as is. `"follow"`: up to `maxRedirects` are followed. */
  redirect?: "manual" | "follow";
  /** The pools to use. Default: the run's shared agent. */
  agent?: Agent;
}

/** Methods that may be retried when a reused connection turns out to be closed (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/**
 * Sends a request and returns its response once the head has arrived; the
 * body is then read with the response's operations. Connections are kept
 * alive and pooled per origin; `pipeline: n` lets the request share a
 * connection with up to n-1 others in flight.
 *
 * Throws `ConnectFailedError`, `ResponseResetError`, `ResponseTimeoutError`
 * (with the phase), `HttpParseError` (malformed response, with llhttp's
 * reason) or `TooManyRedirectsError`. Cancelling the calling task (or a
 * timeout) discards the connection the request was on.
 *
 * @example
 * const res = yield* fetch("http://127.0.0.1:8080/echo", {
 *   method: "POST",
 *   headers: { "content-type": "text/plain" },
 *   body: "hello",
 *   headersTimeoutMs: 2_000,
 * });
 * console.log(res.status, yield* res.text());
 */
export function* fetch(url: string | URL, init: RequestInit = {}): Generator<unknown, ClientResponse, any> {
  const agent = init.agent ?? defaultAgent();
  const limits = resolveClientLimits(init, agent.limits);
  const deadline = deadlineIn(limits.timeoutMs);
  let target = parseTarget(url);
  let method = (init.method ?? "GET").toUpperCase();
  let body = init.body;
  let headers = init.headers;
  for (let redirects = 0; ; redirects++) {
    const res = yield* exchange(agent, target, method, headers, body, limits, deadline, redirects > 0);
    const location = res.headers.get("location");
    if (init.redirect !== "follow" || !isRedirect(res.status) || location === null) return res;
    // RFC 9110 §15.4: 303 (and, as browsers do, 301/302 after POST) becomes a GET without a body.
    const toGet = res.status === 303 ? method !== "HEAD" : (res.status === 301 || res.status === 302) && method === "POST";
    // 307/308 must repeat the body, which a stream cannot: hand the redirect back, body unread.
    if (!toGet && !isReplayable(body)) return res;
    yield* res.discard();
    const next = parseTarget(location, target.href);
    if (redirects >= limits.maxRedirects) throw new TooManyRedirectsError(limits.maxRedirects, next.href);
    if (toGet) {
      method = "GET";
      body = undefined;
      headers = withoutFields(headers, ["content-type", "content-encoding", "content-language", "content-location"]);
    }
    // Credentials stay with their origin, and a Host given by the caller names the old one (RFC 9110 §7.2).
    if (next.origin !== target.origin) headers = withoutFields(headers, ["authorization", "cookie", "proxy-authorization", "host"]);
    target = next;
  }
}

/** One request on one connection; retried once on a fresh connection when a reused one was found closed. */
function* exchange(
  agent: Agent, target: Target, method: string, headers: RequestHeadersInit | undefined, body: RequestBody,
  limits: Readonly<ClientLimits>, deadline: Deadline, redirected: boolean,
): Generator<unknown, ClientResponse, any> {
  const head = serializeRequestHead({ method, path: target.path, host: target.hostHeader, headers, framing: framingOf(method, body) });
  let asksUpgrade = false;
  forEachHeader(headers, (name) => {
    if (name.length === 7 && name.toLowerCase() === "upgrade") asksUpgrade = true;
  });
  const pool = agent.pool(target);
  const canRetry = IDEMPOTENT.has(method) && isReplayable(body);
  for (let attempt = 0; ; attempt++) {
    // A request that asks to switch protocols takes a connection to itself:
    // after a 101 nothing behind it on the wire would be HTTP.
    const c = yield* pool.acquire(asksUpgrade ? 1 : limits.pipeline, limits, deadline);
    const reused = c.responses > 0;
    const ex = c.begin(method, asksUpgrade);
    try {
      yield* within("request", 0, deadline, c.sendWatching(ex, head, body));
      yield* within("head", limits.headersTimeoutMs, deadline, c.waitHead(ex));
    } catch (e) {
      c.abandon(ex);
      if (!isCancelled(e) && e instanceof ResponseResetError && !e.responseStarted && attempt === 0) {
        // Never written (its connection died, or the request ahead of it was
        // cut short): nothing was sent, so any request may go again. Written
        // on a reused connection found closed: only an idempotent one.
        if (!ex.written || (reused && canRetry)) continue;
      }
      throw e;
    }
    return new ClientResponse(ex, target.href, redirected, limits.bodyTimeoutMs, deadline);
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function withoutFields(headers: RequestHeadersInit | undefined, drop: readonly string[]): [string, string][] {
  const kept: [string, string][] = [];
  forEachHeader(headers, (name, value) => {
    if (!drop.includes(name.toLowerCase())) kept.push([name, value]);
  });
  return kept;
}

