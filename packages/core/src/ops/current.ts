import { Instruction, KernelInstruction } from "../operation.js";
import type { Task } from "../task.js";

class Current extends Instruction<Task<unknown>> {
  get description(): string {
    return "currentTask()";
  }
  enter(task: Task<unknown>): void {
    task.resume(task);
  }
}

/** The task running this code. */
export function currentTask(): Instruction<Task<unknown>> {
  return new Current();
}

// Through the kernel: `frame.return()` cannot run inside the frame itself.
class End<T> extends KernelInstruction<never> {
  constructor(private readonly value: T) {
    super();
  }
  get description(): string {
    return "end()";
  }
  enter(task: Task<unknown>): void {
    // Return from the running frame: the generator's `return` runs its finally blocks.
    const frame = task.frame;
    const r = frame.return ? frame.return(this.value) : { done: true, value: this.value };
    if (r.done !== true) throw new TypeError("end(): a finally block yielded; use `return value` in such coroutines");
    // The frame is finished; a stand-in hands its value to the step loop.
    const value = r.value;
    task.frame = { next: () => ({ done: true, value }) };
    task.resume(undefined);
  }
}

/**
 * Ends the current coroutine with `value`, like `return value` (Bluelet's
 * `end`). Its `finally` blocks run. "Current" is the coroutine the kernel
 * runs: the task's body or a plainly yielded sub-coroutine (`yield child()`).
 * A `yield*` chain is one coroutine to the kernel, so inside a generator
 * called with `yield*` this returns from the whole chain; write
 * `return value` there.
 */
export function end<T>(value?: T): Instruction<never> {
  return new End(value);
}

/**
 * Runs `op` to completion as a sub-coroutine and returns its result
 * (Bluelet's `call`); the same as `yield* op` or yielding a generator plainly.
 */
export function* call<T>(op: { [Symbol.iterator](): Iterator<unknown, T, any> }): Generator<unknown, T, any> {
  return yield* op;
}
