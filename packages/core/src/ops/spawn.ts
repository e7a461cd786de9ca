import { Instruction, type Operation } from "../operation.js";
import { Join, type SpawnOptions, type Task } from "../task.js";

/**
 * @internal Starts a child of the yielding task, eagerly (see {@link spawn});
 * given an `owner` (a group's task), a member of that scope, queued.
 */
export class Spawn<T> extends Instruction<Task<T>> {
  constructor(
    private readonly op: Operation<T> | (() => Operation<T>),
    private readonly options: SpawnOptions | undefined,
    private readonly owner: Task<unknown> | null = null,
  ) {
    super();
  }
  get description(): string {
    return this.owner === null ? "spawn()" : "group.spawn()";
  }
  enter(task: Task<unknown>): void {
    const name = this.options?.name;
    task.resume(this.owner === null ? task.kernel.spawnEager(this.op, task, name) : task.kernel.spawn(this.op, this.owner, name));
  }
}

/**
 * Starts `op` as a child task of the current task and returns it. The child
 * runs at once until it first blocks (as calling an async function runs it
 * up to its first `await`); then the parent continues with the Task.
 * The parent does not finish until the child has; if the child fails and
 * nobody is joining it, the parent (and so the child's siblings) is
 * cancelled and the parent rethrows the child's error.
 *
 * @example
 * const t = yield* spawn(worker(queue), { name: "worker-1" });
 * const result = yield* join(t);
 */
export function spawn<T>(op: Operation<T> | (() => Operation<T>), options?: SpawnOptions): Instruction<Task<T>> {
  return new Spawn(op, options);
}

/**
 * Waits for `task` to finish and returns its result, or rethrows its error
 * (a cancelled task raises `TaskCancelledError`). Same as `yield* task`.
 * A failure observed by a join is handled: it does not cancel the parent.
 * A task that already finished with a result is returned as it is: joining
 * it needs no suspension (and, yielding nothing to the kernel, is not a
 * cancellation checkpoint).
 */
export function join<T>(task: Task<T>): Instruction<T> | Task<T> {
  return task.isDone && !task.failed ? task : new Join(task, false);
}

class Cancel extends Instruction<void> {
  private inner: Join<unknown>;
  constructor(private readonly target: Task<unknown>) {
    super();
    this.inner = new Join(target, true);
  }
  get description(): string {
    return `cancel(${this.target.name})`;
  }
  enter(task: Task<unknown>) {
    this.target.cancel();
    // A task cannot wait for its own end: cancelling itself is a request,
    // delivered as Cancelled at its next yield (as after `task.cancel()`).
    if (this.target === task) return task.resume(undefined);
    const inner = this.inner;
    const td = inner.enter(task);
    return td ? () => td.call(inner) : undefined;
  }
}

/**
 * Cancels `task` (and its descendants) and waits until it has finished,
 * its `finally` blocks included. Never throws the task's own error.
 * Bluelet's `kill`. Cancelling the running task itself returns at once;
 * `Cancelled` is then thrown at its next yield.
 */
export function cancel(task: Task<unknown>): Instruction<void> {
  return new Cancel(task);
}

/** Alias of {@link cancel}, after Bluelet's `kill`. */
export const kill = cancel;
