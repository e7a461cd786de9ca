/**
 * Every limit and timeout of the HTTP client in one place. Each name carries
 * its unit, each has a default in {@link DEFAULT_CLIENT_LIMITS}, and each says
 * what 0 means. An {@link Agent} takes them as options; most can be
 * overridden per request.
 *
 * @module
 */

/** Limits and timeouts of the client (all optional when passed in). */
export interface ClientLimits {
  /** Most connections per origin (the pool size). Default 16. Must be >= 1. */
  connectionsPerOrigin: number;
  /**
   * How many requests may be in flight on one connection (HTTP/1.1
   * pipelining, RFC 9112 §9.3.2). Default 1: no pipelining. Must be >= 1.
   */
  pipeline: number;
  /** Time to open a connection (TCP and TLS), in ms. Default 10 s. 0 = no limit. */
  connectTimeoutMs: number;
  /**
   * Time from the end of the request to the end of the response head, in
   * ms. Default 30 s. 0 = no limit.
   */
  headersTimeoutMs: number;
  /** Longest gap between two pieces of a response body, in ms. Default 30 s. 0 = no limit. */
  bodyTimeoutMs: number;
  /**
   * The whole exchange, from the call to the end of the body, in ms.
   * Default 0 = no limit (the phase timeouts still apply).
   */
  timeoutMs: number;
  /** How long an idle keep-alive connection is kept for reuse, in ms. Default 4 s. 0 = never reuse. */
  idleTimeoutMs: number;
  /** Largest response head (status line and header section), in bytes. Default 64 KiB. 0 = no limit. */
  maxResponseHeadBytes: number;
  /**
   * With pipelining, body bytes of an earlier response that its reader has
   * not taken yet, held while a later response is read, in bytes. Past it,
   * reading for the later response waits until the earlier body is read
   * (backpressure; the later one's `headersTimeoutMs` still runs). Default
   * 1 MiB (plus at most one socket read). 0 = no limit.
   */
  maxBufferedBodyBytes: number;
  /** Redirects followed with `redirect: "follow"`. Default 5. 0 = fail on the first redirect. */
  maxRedirects: number;
}

/**
 * The defaults. Frozen; copy with {@link resolveClientLimits} to change.
 *
 * @example
 * const agent = new Agent({ connectionsPerOrigin: 4, headersTimeoutMs: 5_000 });
 */
export const DEFAULT_CLIENT_LIMITS: Readonly<ClientLimits> = Object.freeze({
  connectionsPerOrigin: 16,
  pipeline: 1,
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 30_000,
  timeoutMs: 0,
  idleTimeoutMs: 4_000,
  maxResponseHeadBytes: 64 * 1024,
  maxBufferedBodyBytes: 1024 * 1024,
  maxRedirects: 5,
});

const AT_LEAST_ONE: readonly (keyof ClientLimits)[] = ["connectionsPerOrigin", "pipeline"];

/**
 * Merges `overrides` onto `base` (default {@link DEFAULT_CLIENT_LIMITS}) and
 * validates each value. Throws a RangeError naming the bad field.
 *
 * @example
 * resolveClientLimits({ pipeline: 16 });
 */
export function resolveClientLimits(overrides: Partial<ClientLimits> = {}, base: Readonly<ClientLimits> = DEFAULT_CLIENT_LIMITS): Readonly<ClientLimits> {
  const limits = { ...base };
  for (const key of Object.keys(overrides) as (keyof ClientLimits)[]) {
    if (!(key in DEFAULT_CLIENT_LIMITS)) continue; // other request options share the object
    const value = overrides[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`client limit ${key} must be a non-negative integer, got ${String(value)}`);
    if (value < 1 && AT_LEAST_ONE.includes(key)) throw new RangeError(`client limit ${key} must be at least 1, got ${value}`);
    limits[key] = value;
  }
  return Object.freeze(limits);
}
