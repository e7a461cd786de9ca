import { action } from "./action.js";
import type { Instruction } from "../operation.js";

/**
 * Suspends until `promise` settles and returns its value (or throws its
 * reason): the bridge to Promise-based libraries. Cancelling the task stops
 * the wait (the promise itself runs on; Promises cannot be cancelled).
 *
 * @example
 * const text = yield* wait(fs.promises.readFile(path, "utf8"));
 */
export function wait<T>(promise: PromiseLike<T> | T): Instruction<Awaited<T>> {
  return action<Awaited<T>>("wait(promise)", (resolve, reject) => {
    Promise.resolve(promise).then(resolve as (v: unknown) => void, reject);
  });
}
