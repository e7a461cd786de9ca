/**
 * Every limit and timeout of the HTTP server in one place. Each name carries
 * its unit, each has a default in {@link DEFAULT_LIMITS}, and each documents
 * what 0 means.
 *
 * @module
 */

/** Limits and timeouts of an HTTP server (all fields optional when passed in). */
export interface HttpLimits {
  /**
   * Largest request head (request line + header section, including the
   * blank line), in bytes. Over it: 431. The same bound applies to a
   * chunked body's trailer section (431) and to its chunk extensions, all
   * chunks together (413). Default 16 KiB. 0 = no limit.
   */
  maxHeadBytes: number;
  /** Most header fields in one request. Over it: 431. Default 100. 0 = no limit. */
  maxHeaderCount: number;
  /**
   * Largest request body, in bytes, whether declared by Content-Length
   * (rejected before it is read, and before `100 Continue`) or streamed
   * chunked. Over it: 413. Default 8 MiB. 0 = no limit.
   */
  maxBodyBytes: number;
  /**
   * How many complete requests may be parsed ahead of the one being
   * handled (pipelining look-ahead). Past it the server stops parsing and
   * reading until handlers catch up. Default 128. 0 = no look-ahead: one
   * request at a time.
   */
  maxPipelinedRequests: number;
  /**
   * How many received-but-unparsed bytes a connection may hold while
   * parsing is paused for look-ahead; reading stops past it. Default 64 KiB.
   * 0 = stop reading as soon as parsing pauses.
   */
  maxLookaheadBytes: number;
  /**
   * Most bytes of a request body read and dropped after a response that
   * ended before the body had arrived (an echo that streams, a handler that
   * answers without reading), to keep the connection, as Go's server does.
   * A larger declared rest gets `Connection: close`; an unknown-length rest
   * that runs past it closes the connection. Default 256 KiB. 0 = always
   * close instead.
   */
  maxDrainBytes: number;
  /**
   * Time from the first byte of a request (or from connect) to the end of
   * its head, in ms; a slowloris guard. Over it: 408 and close (a
   * connection that never sent a request byte is just closed; bytes that
   * start no request, such as CRLF, do not restart it). Also the TLS
   * handshake's limit, unless `tls.handshakeTimeout` says otherwise. The
   * clock stops while the server holds up reading (look-ahead full, the
   * client still downloading a response). Default 10 s. 0 = no limit.
   */
  headersTimeoutMs: number;
  /**
   * Time from the first byte of a request to the end of its body, in ms.
   * Over it: 408 and close. A body that waits for `100 Continue` is timed
   * from when the server sends it. Default 300 s. 0 = no limit.
   */
  requestTimeoutMs: number;
  /**
   * How long an idle keep-alive connection stays open waiting for the next
   * request, in ms. Default 5 s. 0 = no idle timeout.
   */
  keepAliveTimeoutMs: number;
  /**
   * How long a handler may run, in ms. Over it the handler is cancelled and
   * the client gets 503 (or an abort if the head was sent). Default 0.
   * 0 = no limit (streaming and long-poll handlers run as long as they need).
   */
  handlerTimeoutMs: number;
  /**
   * How long a write may wait without the client reading any of it, in ms:
   * a stall, not a slow download (each sign of progress starts it again).
   * Over it the connection is destroyed. Progress is what Node sees of the
   * socket, which takes a large write in steps of the kernel's buffer (on a
   * fast link, a megabyte or more): keep it above one step at the slowest
   * pace you serve. Default 30 s. 0 = no limit.
   */
  writeStallTimeoutMs: number;
  /**
   * Most requests answered on one connection: the last one's response says
   * `Connection: close` and the connection closes after it (requests
   * pipelined behind it are not answered; clients retry them on a new
   * connection, RFC 9112 §9.3.2). Spreads long-lived clients over
   * `workers` and lets per-connection state go, like nginx's
   * `keepalive_requests` and node:http's `maxRequestsPerSocket`.
   * Default 0 = no limit.
   */
  maxRequestsPerConnection: number;
  /**
   * Most open connections per server process. Past it new connections get
   * a prebuilt 503 and are closed. Default 16384. 0 = no limit. With TLS,
   * as many again may be in their handshake (not yet served); more are
   * closed as they arrive (set `maxHandshakes` to choose another bound).
   */
  maxConnections: number;
}

/**
 * The defaults. Frozen; copy with {@link resolveLimits} to change.
 *
 * @example
 * serve({ port: 8080, limits: { maxBodyBytes: 64 * 1024 } }, app);
 */
export const DEFAULT_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxHeadBytes: 16 * 1024,
  maxHeaderCount: 100,
  maxBodyBytes: 8 * 1024 * 1024,
  maxPipelinedRequests: 128,
  maxLookaheadBytes: 64 * 1024,
  maxDrainBytes: 256 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 5_000,
  handlerTimeoutMs: 0,
  writeStallTimeoutMs: 30_000,
  maxRequestsPerConnection: 0,
  maxConnections: 16_384,
});

/**
 * Merges `overrides` onto {@link DEFAULT_LIMITS} and validates every value
 * (a non-negative integer). Throws a RangeError naming the bad field.
 *
 * @example
 * const limits = resolveLimits({ headersTimeoutMs: 2_000 });
 */
export function resolveLimits(overrides: Partial<HttpLimits> = {}): Readonly<HttpLimits> {
  const limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(overrides) as (keyof HttpLimits)[]) {
    if (!(key in DEFAULT_LIMITS)) throw new RangeError(`unknown HTTP limit "${String(key)}"`);
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`HTTP limit ${key} must be a non-negative integer, got ${String(value)}`);
    }
    limits[key] = value;
  }
  return Object.freeze(limits);
}
