/**
 * Deadlines and shields: `timeout`, `moveOnAfter`, `shield`. Each opens a
 * cancel scope on the current task around an operation. Scopes nest: an
 * inner deadline later than an outer one never extends it.
 */
import { Cancelled, TimeoutError } from "./errors.js";
import { currentTaskSync } from "./kernel.js";
import { checkOperation, type Operation } from "./operation.js";
import { checkDuration } from "./timers.js";

/**
 * Runs `op`; if it has not finished after `ms` milliseconds it is cancelled
 * (its `finally` blocks run) and `TimeoutError` is thrown. Syncless's
 * per-block timeout.
 *
 * @example
 * const line = yield* timeout(5000, conn.readLine());
 */
export function* timeout<T>(ms: number, op: Operation<T>): Generator<unknown, T, any> {
  checkDuration(ms, "timeout");
  checkOperation(op, "timeout()");
  const task = currentTaskSync();
  const kernel = task.kernel;
  const scope = kernel.openScope(task, false, kernel.now() + ms, `timed out after ${ms} ms`);
  try {
    return yield* op;
  } catch (e) {
    if (e instanceof Cancelled && e.scope === scope) throw kernel.supersede(scope) ?? new TimeoutError(ms);
    throw e;
  } finally {
    kernel.closeScope(scope);
  }
}

/**
 * Runs `op`; if it has not finished after `ms` milliseconds it is cancelled
 * and `undefined` is returned instead of throwing (trio's `move_on_after`).
 *
 * @example
 * const msg = yield* moveOnAfter(1000, queue.get());
 * if (msg === undefined) console.log("nothing within a second");
 */
export function* moveOnAfter<T>(ms: number, op: Operation<T>): Generator<unknown, T | undefined, any> {
  checkDuration(ms, "moveOnAfter");
  checkOperation(op, "moveOnAfter()");
  const task = currentTaskSync();
  const kernel = task.kernel;
  const scope = kernel.openScope(task, false, kernel.now() + ms, `moved on after ${ms} ms`);
  try {
    return yield* op;
  } catch (e) {
    if (e instanceof Cancelled && e.scope === scope) {
      const outer = kernel.supersede(scope);
      if (outer !== null) throw outer;
      return undefined;
    }
    throw e;
  } finally {
    kernel.closeScope(scope);
  }
}

/**
 * Runs `op` protected from cancellation coming from outside: a cancel of the
 * task is delivered at its first yield point after `op` finishes. Tasks
 * started inside (`shield(all([...]))`) are protected too, until the shield
 * closes. Deadlines opened inside `op` still apply. Keep shielded sections
 * short.
 *
 * @example
 * yield* shield(conn.sendAll(goodbye));
 */
export function* shield<T>(op: Operation<T>): Generator<unknown, T, any> {
  checkOperation(op, "shield()");
  const task = currentTaskSync();
  const kernel = task.kernel;
  const scope = kernel.openScope(task, true, Infinity, "shielded");
  try {
    return yield* op;
  } finally {
    kernel.closeScope(scope);
  }
}
