/**
 * The counters of a load run: preallocated numbers and typed arrays that
 * the hot path increments, never allocates.
 *
 * @module
 */
import { Histogram } from "./histogram.js";

/** Error kinds, in report order. */
export const ERROR_KINDS = ["connect", "reset", "closed", "timeout", "parse", "status", "body"] as const;

/** Why a request did not count: see {@link ERROR_KIND_MEANING}. */
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** What each error kind means (shown by `--help` and the README). */
export const ERROR_KIND_MEANING: Readonly<Record<ErrorKind, string>> = {
  connect: "a connection could not be opened (refused, timed out, TLS failed)",
  reset: "the server reset a connection (ECONNRESET/EPIPE)",
  closed: "the server closed a connection with requests in flight",
  timeout: "no response arrived within the timeout; the connection was closed",
  parse: "llhttp rejected a response (malformed, or more responses than requests)",
  status: "a response had a status outside the expected range",
  body: "a response body differed from --expect-body",
};

export const E_CONNECT = 0;
export const E_RESET = 1;
export const E_CLOSED = 2;
export const E_TIMEOUT = 3;
export const E_PARSE = 4;
export const E_STATUS = 5;
export const E_BODY = 6;

/** Counters for one phase (warm-up or measurement). */
export class LoadStats {
  /** Responses that passed every check. */
  ok = 0;
  /** Responses parsed (ok, or failed a status/body check). */
  responses = 0;
  /** Requests written. */
  sent = 0;
  /** Bytes received. */
  bytesRead = 0;
  /** Responses per status code (index = status). */
  readonly statusCounts = new Float64Array(1000);
  /** Errors per kind (index = `E_*`). */
  readonly errors = new Float64Array(ERROR_KINDS.length);
  /** Latency of successful responses, in µs. */
  readonly latency = new Histogram();

  /** Zeroes every counter, keeping the arrays. */
  reset(): void {
    this.ok = this.responses = this.sent = this.bytesRead = 0;
    this.statusCounts.fill(0);
    this.errors.fill(0);
    this.latency.reset();
  }

  /** Sum of all error kinds. */
  get errorTotal(): number {
    let n = 0;
    for (let i = 0; i < this.errors.length; i++) n += this.errors[i]!;
    return n;
  }
}
