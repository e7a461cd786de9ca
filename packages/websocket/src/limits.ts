/**
 * Every limit and timeout of a WebSocket in one place. Each name carries its
 * unit, each has a default in {@link DEFAULT_WS_LIMITS}, and each documents
 * what 0 means. The defaults suit a server behind a load balancer: a ping
 * every 25 s keeps proxies with a 30–60 s idle cut-off from dropping quiet
 * connections, and a peer that stops answering is gone within 35 s.
 *
 * @module
 */

/** Limits and timeouts of one WebSocket (all fields optional when passed in). */
export interface WebSocketLimits {
  /**
   * Largest message accepted from the peer, in bytes (after reassembling
   * fragments and inflating). Over it the peer gets close 1009. Default 1 MiB.
   * 0 = no limit.
   */
  maxPayloadBytes: number;
  /**
   * Messages received and not yet taken by `recv()` before reading from the
   * socket pauses (TCP backpressure then slows the peer). Reading resumes once
   * the handler has taken half of them. Default 64. 0 = pause as soon as one
   * message waits.
   */
  maxQueuedMessages: number;
  /**
   * Bytes of received messages not yet taken by `recv()` before reading
   * pauses, as for {@link maxQueuedMessages}. Default 1 MiB. 0 = pause as soon
   * as one message waits.
   */
  maxQueuedBytes: number;
  /**
   * Outbound bytes (queued in the socket and in `ws`) above which `send()`
   * suspends until the peer has read enough. Default 64 KiB. 0 = every send
   * waits until the socket has taken all queued bytes.
   */
  sendHighWaterMarkBytes: number;
  /** Ping the peer this often, in ms. Default 25 s. 0 = no heartbeat pings. */
  pingIntervalMs: number;
  /**
   * Terminate a peer that has not answered a heartbeat ping within this many
   * ms. Default 10 s. 0 = never terminate for a missing pong.
   */
  pongTimeoutMs: number;
  /**
   * Close (1001) a connection on which no message has arrived for this many
   * ms (pings and pongs do not count). Time while reading is paused because
   * the handler is behind does not count. Default 0. 0 = no idle timeout.
   */
  idleTimeoutMs: number;
  /** Close (1001) any connection older than this many ms. Default 0. 0 = no limit. */
  maxLifetimeMs: number;
  /**
   * How long `close()` waits for the peer's close frame before dropping the
   * TCP connection, in ms. Default 5 s. 0 = drop it right after sending ours
   * (ours and the messages before it are handed to the socket first — but
   * with permessage-deflate, what ws is still compressing is lost).
   */
  closeTimeoutMs: number;
  /** How long the client's opening handshake may take, in ms. Default 10 s. 0 = no limit. */
  handshakeTimeoutMs: number;
}

/**
 * The defaults. Frozen; copy with {@link resolveLimits} to change.
 *
 * @example
 * websocket(handler, { pingIntervalMs: 10_000, maxPayloadBytes: 64 * 1024 });
 */
export const DEFAULT_WS_LIMITS: Readonly<WebSocketLimits> = Object.freeze({
  maxPayloadBytes: 1024 * 1024,
  maxQueuedMessages: 64,
  maxQueuedBytes: 1024 * 1024,
  sendHighWaterMarkBytes: 64 * 1024,
  pingIntervalMs: 25_000,
  pongTimeoutMs: 10_000,
  idleTimeoutMs: 0,
  maxLifetimeMs: 0,
  closeTimeoutMs: 5_000,
  handshakeTimeoutMs: 10_000,
});

/**
 * Picks the limit fields out of `options`, merges them onto `defaults` and
 * validates every value (a non-negative integer). Throws a RangeError naming
 * the bad field. Other fields of `options` are ignored.
 *
 * @example
 * const limits = resolveLimits({ pingIntervalMs: 0 }); // no heartbeat
 */
export function resolveLimits(options: Partial<WebSocketLimits> = {}, defaults: Readonly<WebSocketLimits> = DEFAULT_WS_LIMITS): Readonly<WebSocketLimits> {
  const limits = { ...defaults };
  for (const key of Object.keys(defaults) as (keyof WebSocketLimits)[]) {
    const value = options[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`WebSocket limit ${key} must be a non-negative integer, got ${String(value)}`);
    }
    limits[key] = value;
  }
  return Object.freeze(limits);
}
