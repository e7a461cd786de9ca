/**
 * Errors of `@skein/http`: one base class, {@link HttpError}, with a stable
 * `code` to branch on (never compare messages) and the HTTP status the server
 * puts on the wire for it (0 when the only answer is closing the connection).
 *
 * @module
 */

/**
 * Every stable error code of this package, with the status each one answers.
 * A status of 0 means the server aborts the connection without a response.
 */
export const HTTP_ERROR_STATUS = {
  /** llhttp rejected the bytes (malformed message or a request-smuggling shape). */
  HTTP_ERR_PARSE: 400,
  /** An HTTP/1.1 request without a Host header (RFC 9112 §3.2). */
  HTTP_ERR_MISSING_HOST: 400,
  /** A Host value with characters no `host[:port]` has (RFC 9112 §3.2). */
  HTTP_ERR_INVALID_HOST: 400,
  /** A Transfer-Encoding other than exactly `chunked`, e.g. `gzip, chunked` (RFC 9112 §6.1). */
  HTTP_ERR_UNSUPPORTED_TRANSFER_CODING: 501,
  /** A request Transfer-Encoding whose final coding is not `chunked`: its body length cannot be known (RFC 9112 §6.3). */
  HTTP_ERR_BAD_TRANSFER_ENCODING: 400,
  /** An Expect field other than `100-continue` (RFC 9110 §10.1.1). */
  HTTP_ERR_EXPECTATION_FAILED: 417,
  /** The connection ended in the middle of a request. */
  HTTP_ERR_UNEXPECTED_EOF: 400,
  /** The request line plus header section exceeded `maxHeadBytes`. */
  HTTP_ERR_HEADERS_TOO_LARGE: 431,
  /** More header fields than `maxHeaderCount`. */
  HTTP_ERR_TOO_MANY_HEADERS: 431,
  /** The body (declared or streamed) exceeded `maxBodyBytes` or a `readAll` limit. */
  HTTP_ERR_BODY_TOO_LARGE: 413,
  /** Chunk extensions (`5;name=value`) of one request exceeded `maxHeadBytes` (Node answers the same with 413). */
  HTTP_ERR_CHUNK_EXTENSIONS_TOO_LARGE: 413,
  /** A version other than HTTP/1.0 and HTTP/1.1. */
  HTTP_ERR_VERSION_NOT_SUPPORTED: 505,
  /** The head did not arrive within `headersTimeoutMs` (slowloris). */
  HTTP_ERR_HEADERS_TIMEOUT: 408,
  /** The whole request did not arrive within `requestTimeoutMs`. */
  HTTP_ERR_REQUEST_TIMEOUT: 408,
  /** The handler ran longer than `handlerTimeoutMs`. */
  HTTP_ERR_HANDLER_TIMEOUT: 503,
  /** The server is at `maxConnections`. */
  HTTP_ERR_TOO_MANY_CONNECTIONS: 503,
  /** The server is shutting down. */
  HTTP_ERR_SHUTTING_DOWN: 503,
  /** The handler threw, or returned without responding. */
  HTTP_ERR_HANDLER: 500,
  /** The handler broke the response protocol (write after end, start twice…). */
  HTTP_ERR_RESPONSE_STATE: 500,
  /** The handler supplied an invalid status, header name or header value. */
  HTTP_ERR_INVALID_RESPONSE: 500,
  /** The handler wrote more or fewer bytes than its Content-Length. */
  HTTP_ERR_CONTENT_LENGTH_MISMATCH: 0,
  /** The body could not be decoded as requested (e.g. invalid JSON). */
  HTTP_ERR_BAD_BODY: 400,
  /** The client stopped reading for longer than `writeStallTimeoutMs`. */
  HTTP_ERR_WRITE_STALL: 0,
  /** The client closed the connection. */
  HTTP_ERR_CLIENT_GONE: 0,
  /** `workers: n`: workers kept exiting before they listened (a port in use, a crash at start-up). */
  HTTP_ERR_WORKERS_FAILED: 0,
  /** The request was taken over (Upgrade) or its body dropped after the response; client: a whole-body read after the body was read. */
  HTTP_ERR_BODY_UNAVAILABLE: 500,
  // Client side (the HTTP client and load generator): nothing goes on the wire.
  /** Client: the connection could not be opened (refused, DNS, TLS handshake). */
  HTTP_ERR_CONNECT_FAILED: 0,
  /** Client: the connection was reset or closed before the response was complete. */
  HTTP_ERR_RESPONSE_RESET: 0,
  /** Client: a phase of a request (connect, head, body) or the whole request timed out. */
  HTTP_ERR_RESPONSE_TIMEOUT: 0,
  /** Client: more redirects than the request allows. */
  HTTP_ERR_TOO_MANY_REDIRECTS: 0,
} as const;

/** A stable error code of `@skein/http`. */
export type HttpErrorCode = keyof typeof HTTP_ERROR_STATUS;

/**
 * The base class of every error this package throws.
 *
 * @example
 * try { yield* req.readAll({ maxBytes: 1024 }); }
 * catch (e) { if (e instanceof HttpError && e.code === "HTTP_ERR_BODY_TOO_LARGE") ... }
 */
export class HttpError extends Error {
  override name = "HttpError";
  /** Stable machine-readable code. */
  readonly code: HttpErrorCode;
  /** The status this error puts on the wire; 0 = close without a response. */
  readonly status: number;

  constructor(code: HttpErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = HTTP_ERROR_STATUS[code];
  }

  /** True for `HTTP_ERR_CLIENT_GONE`: the client left, nothing to log (see core's `isPeerGone`). */
  get peerGone(): boolean {
    return this.code === "HTTP_ERR_CLIENT_GONE";
  }
}

/**
 * True for a client's fault (a 4xx `HttpError`: a bad or oversized body, a
 * cut-short upload): the server answers it and does not log it, so clients
 * cannot fill the log.
 */
export function isClientError(e: unknown): boolean {
  return e instanceof HttpError && e.status >= 400 && e.status < 500;
}

/**
 * llhttp rejected the input. Carries llhttp's own error number and name
 * (`HPE_INVALID_CHUNK_SIZE`…), its reason text, and the byte offset in the
 * chunk being parsed where the parser stopped.
 *
 * @example
 * if (e instanceof HttpParseError) log(e.llhttpError, e.offset);
 */
export class HttpParseError extends HttpError {
  override name = "HttpParseError";
  /** llhttp's `llhttp_errno_t` value. */
  readonly llhttpErrno: number;
  /** llhttp's symbolic name for {@link llhttpErrno}, e.g. `HPE_INVALID_CHUNK_SIZE`. */
  readonly llhttpError: string;
  /** llhttp's reason text (for logs only). */
  readonly reason: string;
  /** Offset in the chunk passed to `execute` where parsing stopped. */
  readonly offset: number;

  constructor(code: HttpErrorCode, errno: number, errorName: string, reason: string, offset: number) {
    super(code, `${errorName}: ${reason}`);
    this.llhttpErrno = errno;
    this.llhttpError = errorName;
    this.reason = reason;
    this.offset = offset;
  }
}
