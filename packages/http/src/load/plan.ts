/**
 * The request plan: what every connection sends and checks. The request is
 * serialized once per run, `pipeline` times back to back, and each refill
 * of k requests sends a prebuilt view of the first k copies: the same bytes
 * for every connection and every batch.
 *
 * @module
 */
import { framingOf } from "../client/body.js";
import { serializeRequestHead } from "../client/request-head.js";
import { parseTarget, type Target } from "../client/target.js";
import type { ResolvedLoadOptions } from "./options.js";

/** Prebuilt request bytes and the checks applied to each response. */
export interface RequestPlan {
  readonly target: Target;
  /** One request, head and body. */
  readonly request: Buffer;
  /** `batches[k]`: k requests back to back (k = 1..pipeline). */
  readonly batches: readonly Buffer[];
  /** A response to HEAD has no body. */
  readonly skipBody: boolean;
  readonly statusMin: number;
  readonly statusMax: number;
  readonly expectBody: Uint8Array | undefined;
}

/** Serializes the request of `o` and its pipelined batches. */
export function planRequests(o: ResolvedLoadOptions): RequestPlan {
  const target = parseTarget(o.url);
  const head = serializeRequestHead({ method: o.method, path: target.path, host: target.hostHeader, headers: o.headers, framing: framingOf(o.method, o.body) });
  const request = o.body === undefined ? head : Buffer.concat([head, o.body]);
  const all = Buffer.allocUnsafe(request.length * o.pipeline);
  for (let i = 0; i < o.pipeline; i++) request.copy(all, i * request.length);
  const batches: Buffer[] = [Buffer.alloc(0)];
  for (let k = 1; k <= o.pipeline; k++) batches.push(all.subarray(0, k * request.length));
  return {
    target,
    request,
    batches,
    skipBody: o.method === "HEAD",
    statusMin: o.expectStatus.min,
    statusMax: o.expectStatus.max,
    expectBody: o.expectBody,
  };
}
