/**
 * Running a handler step by step: the connection takes a handler's first
 * step itself (most handlers finish there, without suspending) and only
 * when it yields continues it with {@link drive} inside the connection task.
 *
 * @module
 */
import { Instruction, KernelInstruction, type Operation, type Task } from "@skein/core";

/**
 * Passed to {@link drive} as `first` when the handler has not taken its first
 * step yet (with a handler deadline, that step must run inside its scope).
 */
export const NOT_STARTED: unique symbol = Symbol("not started");

/**
 * Continues a handler that has already taken its first step (and yielded
 * `first`), or starts it (`first` is {@link NOT_STARTED}), forwarding what it
 * yields to the kernel and the results back.
 *
 * @example
 * const it = op[Symbol.iterator]();
 * const step = it.next();
 * const result = step.done ? step.value : yield* drive(it, step.value);
 */
export function* drive(it: Iterator<unknown, unknown, unknown>, first: unknown): Generator<unknown, unknown, any> {
  let step: IteratorResult<unknown, unknown> = first === NOT_STARTED ? it.next() : { done: false, value: first };
  for (;;) {
    // Read at once: core's instructions share their result objects.
    if (step.done === true) return step.value;
    const yielded = step.value;
    try {
      step = it.next(yield yielded);
    } catch (e) {
      if (it.throw === undefined) throw e;
      step = it.throw(e);
    }
  }
}

/**
 * `op`'s result in a box, so that `moveOnAfter` (which returns undefined on
 * timeout) can tell a timeout from a handler that returned undefined.
 *
 * @example
 * const box = yield* moveOnAfter(ms, boxed(op)); // undefined: timed out
 */
export function* boxed<T>(op: Operation<T>): Generator<unknown, { value: T }, any> {
  return { value: yield* op };
}

/** Completes at once with `undefined`, through the kernel: only a real resume replaces the value a frame holds. */
class Scrub extends KernelInstruction<void> {
  get description(): string {
    return "scrub";
  }
  enter(task: Task<unknown>): void {
    task.resume(undefined);
  }
  /** Shared by every connection: one whose turn ended right after its scrub (the kernel requeued it) still holds this one. */
  override [Symbol.iterator](): this {
    return this.stepped ? (new Scrub() as this) : this;
  }
}

/**
 * An operation that completes at once with `undefined`. A generator frame
 * suspended in `yield*` keeps the value it was last resumed with (such as the
 * last chunk read); yielding this first replaces it, so a long wait does not
 * pin that value. One shared instance (a second one is made in the rare
 * case that a task's turn ended between its scrub and the resume).
 *
 * @example
 * yield* SCRUB;
 * const chunk = yield* conn.recv(); // a long idle wait
 */
export const SCRUB: Instruction<void> = new Scrub();

/**
 * The handler's operation, or a TypeError saying what to write instead: an
 * `async` handler returns a Promise, which the server cannot drive (its
 * rejection is marked handled, so it cannot end the process).
 */
export function handlerOperation<T>(op: Operation<T>): Operation<T> {
  if (op !== null && typeof op === "object" && typeof (op as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function") return op;
  const promise = op as unknown as PromiseLike<unknown> | null;
  if (promise !== null && (typeof promise === "object" || typeof promise === "function") && typeof promise.then === "function") {
    promise.then(undefined, () => {});
    throw new TypeError("the handler returned a Promise (an async function?): write handlers as generator functions, function* (req, res), and yield* operations; wait(promise) awaits a promise");
  }
  throw new TypeError(`the handler returned ${op === null ? "null" : typeof op}: return a Prepared response or write the handler as a generator function`);
}
