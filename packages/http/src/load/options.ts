/**
 * Options of a load run, their defaults and validation, and the duration
 * syntax the CLI accepts (`10s`, `500ms`, `2m`).
 *
 * @module
 */
import type { ConnectionOptions } from "node:tls";
import type { RequestHeadersInit } from "../client/request-head.js";

/** Which statuses count as success. */
export interface StatusRange {
  min: number;
  max: number;
}

/** What a load run does. Only `url` is required. */
export interface LoadOptions {
  /** Absolute `http:` or `https:` URL. */
  url: string;
  /** Connections kept open. Default 10. */
  connections?: number;
  /** Requests in flight per connection (pipelining depth). Default 1. */
  pipeline?: number;
  /** Measured time in ms, after the warm-up. Default 10 000 unless `count` is set. */
  durationMs?: number;
  /**
   * Stop after this many requests have been answered (instead of a
   * duration). The run also ends, with `stoppedEarly` in the report, when
   * nothing has been answered for `timeoutMs` (10 s when that is 0): a
   * server that is down or answers nothing would keep it going for ever.
   */
  count?: number;
  /** Total request rate in requests per second; 0 = as fast as possible. Default 0. */
  rate?: number;
  /** Requests sent and answered but not counted before measuring starts, in ms. Default 0. */
  warmupMs?: number;
  /** Default "GET". */
  method?: string;
  headers?: RequestHeadersInit;
  body?: string | Uint8Array;
  /** Statuses that count as success. Default 200–399. */
  expectStatus?: StatusRange;
  /** When set, every response body must equal these bytes. */
  expectBody?: string | Uint8Array;
  /**
   * A connection with requests in flight and no response for this long is
   * closed and counted as a `timeout` error, in ms. Default 10 000. 0 = never.
   */
  timeoutMs?: number;
  /** Time to open a connection, in ms. Default 10 000. */
  connectTimeoutMs?: number;
  /**
   * Most connections being opened at once. Default 1000: opening 10,000 in
   * one burst costs ~30 MB of transient memory and overflows accept
   * backlogs. 0 = no limit.
   */
  connectConcurrency?: number;
  /** TLS options for `https:` URLs. */
  tls?: ConnectionOptions;
  /** Called about once a second while the run goes on (the CLI prints a progress line). */
  onProgress?: (progress: LoadProgress) => void;
}

/** A progress report while a run goes on. */
export interface LoadProgress {
  /** "warmup" or "measure". */
  phase: "warmup" | "measure";
  /** Time since the phase began, in ms. */
  elapsedMs: number;
  /** Successful responses in the phase so far. */
  requests: number;
  /** Successful responses per second over the last interval. */
  rate: number;
  /** Errors in the phase so far (all kinds). */
  errors: number;
  /** Connections open now. */
  connected: number;
}

/** {@link LoadOptions} with every default filled in. */
export interface ResolvedLoadOptions extends Required<Omit<LoadOptions, "headers" | "body" | "expectBody" | "tls" | "onProgress" | "count" | "durationMs">> {
  headers: RequestHeadersInit | undefined;
  body: Uint8Array | undefined;
  expectBody: Uint8Array | undefined;
  tls: ConnectionOptions | undefined;
  onProgress: ((progress: LoadProgress) => void) | undefined;
  /** 0 = no count limit. */
  count: number;
  /** Infinity when the run is bounded by `count` only. */
  durationMs: number;
}

/** Fills in defaults and validates; throws a RangeError naming the bad option. */
export function resolveLoadOptions(o: LoadOptions): ResolvedLoadOptions {
  const int = (name: string, v: number | undefined, def: number, min: number): number => {
    const value = v ?? def;
    if (!Number.isSafeInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${String(v)}`);
    return value;
  };
  const count = int("count", o.count, 0, 0);
  const durationMs = o.durationMs === undefined ? (count > 0 ? Infinity : 10_000) : int("durationMs", o.durationMs, 0, 1);
  const status = o.expectStatus ?? { min: 200, max: 399 };
  if (!(status.min >= 100 && status.max <= 999 && status.min <= status.max)) throw new RangeError(`expectStatus must lie within 100–999, got ${status.min}–${status.max}`);
  const rate = o.rate ?? 0;
  if (!(rate >= 0 && Number.isFinite(rate))) throw new RangeError(`rate must be a non-negative number, got ${String(o.rate)}`);
  const bytes = (v: string | Uint8Array | undefined) => (v === undefined ? undefined : typeof v === "string" ? Buffer.from(v) : v);
  return {
    url: o.url,
    connections: int("connections", o.connections, 10, 1),
    pipeline: int("pipeline", o.pipeline, 1, 1),
    durationMs,
    count,
    rate,
    warmupMs: int("warmupMs", o.warmupMs, 0, 0),
    method: (o.method ?? "GET").toUpperCase(),
    headers: o.headers,
    body: bytes(o.body),
    expectStatus: { min: status.min, max: status.max },
    expectBody: bytes(o.expectBody),
    timeoutMs: int("timeoutMs", o.timeoutMs, 10_000, 0),
    connectTimeoutMs: int("connectTimeoutMs", o.connectTimeoutMs, 10_000, 1),
    connectConcurrency: int("connectConcurrency", o.connectConcurrency, 1000, 0),
    tls: o.tls,
    onProgress: o.onProgress,
  };
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration: a number with an optional unit (`ms`, `s`, `m`, `h`;
 * seconds when absent). Returns milliseconds; throws a RangeError otherwise.
 *
 * @example
 * parseDuration("10s"); // 10000
 * parseDuration("250ms"); // 250
 */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) throw new RangeError(`not a duration: ${JSON.stringify(text)} (try 10s, 500ms, 2m)`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? "s"]!);
}
