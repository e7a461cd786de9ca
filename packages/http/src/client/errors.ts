/**
 * The client's typed errors. Each is an {@link HttpError} with a stable
 * `code`; branch on the class or the code, never on the message. A malformed
 * response surfaces as the binding's {@link HttpParseError} (llhttp's error
 * name and reason), unchanged.
 *
 * @module
 */
import { HttpError } from "../errors.js";

/** Which part of a request ran out of time. */
export type TimeoutPhase = "connect" | "head" | "body" | "request";

/**
 * The connection could not be opened: refused, host not found, TLS
 * handshake failed. `syscallCode` is the operating system's code
 * (`ECONNREFUSED`, `ENOTFOUND`…) when there is one.
 *
 * @example
 * try { yield* fetch("http://127.0.0.1:1/"); }
 * catch (e) { if (e instanceof ConnectFailedError && e.syscallCode === "ECONNREFUSED") ... }
 */
export class ConnectFailedError extends HttpError {
  override name = "ConnectFailedError";
  /** `scheme://host:port` that was being connected to. */
  readonly origin: string;
  /** The operating system's error code, when there is one. */
  readonly syscallCode: string | undefined;
  constructor(origin: string, syscallCode: string | undefined, cause: unknown) {
    super("HTTP_ERR_CONNECT_FAILED", `cannot connect to ${origin}${syscallCode ? ` (${syscallCode})` : ""}`, { cause });
    this.origin = origin;
    this.syscallCode = syscallCode;
  }
}

/**
 * The connection was reset or closed before the response was complete, or
 * it was discarded because a request pipelined on it failed or was cancelled.
 * `responseStarted` tells whether any byte of this response had arrived.
 *
 * @example
 * catch (e) { if (e instanceof ResponseResetError && !e.responseStarted) retryElsewhere(); }
 */
export class ResponseResetError extends HttpError {
  override name = "ResponseResetError";
  /** True when part of the response (at least its head) had been received. */
  readonly responseStarted: boolean;
  /** The operating system's error code (`ECONNRESET`, `EPIPE`), when there is one. */
  readonly syscallCode: string | undefined;
  constructor(message: string, responseStarted: boolean, syscallCode?: string, cause?: unknown) {
    super("HTTP_ERR_RESPONSE_RESET", message, { cause });
    this.responseStarted = responseStarted;
    this.syscallCode = syscallCode;
  }
}

/**
 * A request phase ran out of time: `connect` (opening the connection),
 * `head` (from the end of the request to the end of the response head),
 * `body` (the gap between two pieces of the body), or `request` (the whole
 * exchange's `timeoutMs`). The connection is discarded.
 *
 * @example
 * catch (e) { if (e instanceof ResponseTimeoutError && e.phase === "head") ... }
 */
export class ResponseTimeoutError extends HttpError {
  override name = "ResponseTimeoutError";
  readonly phase: TimeoutPhase;
  readonly timeoutMs: number;
  constructor(phase: TimeoutPhase, timeoutMs: number) {
    super("HTTP_ERR_RESPONSE_TIMEOUT", `${phase} timed out after ${timeoutMs} ms`);
    this.phase = phase;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * `redirect: "follow"` met more redirects than `maxRedirects`.
 *
 * @example
 * catch (e) { if (e instanceof TooManyRedirectsError) log(e.location); }
 */
export class TooManyRedirectsError extends HttpError {
  override name = "TooManyRedirectsError";
  /** The redirect that was not followed. */
  readonly location: string;
  readonly maxRedirects: number;
  constructor(maxRedirects: number, location: string) {
    super("HTTP_ERR_TOO_MANY_REDIRECTS", `more than ${maxRedirects} redirects (next: ${location})`);
    this.maxRedirects = maxRedirects;
    this.location = location;
  }
}
