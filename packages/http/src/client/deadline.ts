/**
 * Phase timeouts as core cancel scopes. A phase runs under the tighter of
 * its own limit and what is left of the whole request's deadline, and a
 * timeout says which one fired.
 *
 * @module
 */
import { currentTaskSync, moveOnAfter, type Operation } from "@skein/core";
import { ResponseTimeoutError, type TimeoutPhase } from "./errors.js";

/** The whole exchange's deadline: an absolute time on the kernel's clock, and the limit it came from. */
export interface Deadline {
  readonly at: number;
  readonly ms: number;
}

/** No overall deadline. */
export const NO_DEADLINE: Deadline = Object.freeze({ at: Infinity, ms: 0 });

/** A deadline `ms` from now (0 = none), on the current kernel's clock. */
export function deadlineIn(ms: number): Deadline {
  if (ms <= 0) return NO_DEADLINE;
  return { at: currentTaskSync().kernel.now() + ms, ms };
}

/**
 * Runs `op` for at most `phaseMs` (0 = no phase limit) and not past
 * `deadline`. On expiry `op` is cancelled — its `finally` blocks discard
 * whatever connection it held — and {@link ResponseTimeoutError} is thrown
 * naming the phase (`request` when the overall deadline was the tighter).
 *
 * @example
 * const head = yield* within("head", 5_000, deadline, c.waitHead(ex));
 */
export function* within<T>(phase: TimeoutPhase, phaseMs: number, deadline: Deadline, op: Operation<T>): Generator<unknown, T, any> {
  let ms = phaseMs > 0 ? phaseMs : Infinity;
  let which = phase;
  if (deadline.at !== Infinity) {
    const left = deadline.at - currentTaskSync().kernel.now();
    if (left < ms) {
      ms = left;
      which = "request";
    }
  }
  if (ms === Infinity) return yield* op;
  const limit = which === "request" ? deadline.ms : ms;
  if (ms <= 0) throw new ResponseTimeoutError(which, limit);
  // moveOnAfter returns undefined only when its own scope expired, so a
  // TimeoutError raised inside `op` is never mistaken for this phase's.
  const box = yield* moveOnAfter(ms, boxed(op));
  if (box === undefined) throw new ResponseTimeoutError(which, limit);
  return box.value;
}

function* boxed<T>(op: Operation<T>): Generator<unknown, { value: T }, any> {
  return { value: yield* op };
}
