/**
 * Tasks: the unit of concurrency. A task runs one coroutine (a generator, and
 * the sub-generators it yields), lives in a tree under the task that spawned
 * it, and does not finish until its children have (a task is a nursery).
 */
import type { Kernel } from "./kernel.js";
import { Instruction, type Operation, type Teardown } from "./operation.js";
import type { CancelScope } from "./scope-state.js";
import { Cancelled, KernelError, SkeinError } from "./errors.js";

export { DONE, ENTERING, NEXT, READY, RESOLVED, RUNNING, SUSPENDED, THROW, WAITING_CHILDREN } from "./running.js";
import { DONE, F_CANCEL_HINT, NEXT, READY, SUSPENDED, THROW } from "./running.js";

const STATE_NAMES = ["ready", "running", "running", "ready", "suspended", "waiting for children", "done"] as const;

/** A task's state as shown by `tasks()` and `Task.state`. */
export type TaskStateName = (typeof STATE_NAMES)[number];

/** Options accepted by `spawn`. */
export interface SpawnOptions {
  /** Shown by `tasks()` and in error logs. Default `task-<id>`. */
  name?: string;
}

/** Raised by `join` when the joined task was cancelled rather than finishing. */
export class TaskCancelledError extends SkeinError {
  readonly task: Task<unknown>;
  constructor(task: Task<unknown>) {
    super("SKEIN_ERR_TASK_CANCELLED", `task ${task.name} was cancelled`);
    this.task = task;
  }
}

/**
 * A running coroutine. `yield* task` (or `yield* join(task)`) waits for its
 * result and rethrows its error; `task.cancel()` requests cancellation.
 *
 * @example
 * const t = yield* spawn(fetchPage(url), { name: "fetch" });
 * const page = yield* t;
 */
const F_CANCELLED = 1;
const F_CANCEL_DELIVERED = 2;
const F_HARD_CANCEL = 4;
const F_FAILED = 16;

export class Task<T = unknown> implements Operation<T> {
  readonly id: number;
  /** @internal fields most tasks never use, allocated on first use (keeps Task small: a server holds one per connection) */
  x: TaskExtras | null = null;
  readonly kernel: Kernel;
  parent: Task<unknown> | null;

  // Children: an intrusive doubly linked list, O(1) link/unlink, no allocation.
  /** @internal */ firstChild: Task<unknown> | null = null;
  /** @internal */ prevSibling: Task<unknown> | null = null;
  /** @internal */ nextSibling: Task<unknown> | null = null;

  // The coroutine: the running frame and, for plainly yielded sub-generators, the frames below it.
  /** @internal */ frame: Iterator<unknown, unknown, unknown>;

  // Scheduling.
  /** @internal */ st = READY;
  /** @internal */ mode = NEXT;
  /** @internal the resume payload while running; the outcome once the body has finished */
  value: unknown = undefined;
  /** @internal */ teardown: Teardown | void = undefined;
  /** The instruction this task is suspended in, if any. */
  waitingOn: Instruction<unknown> | null = null;

  // Cancellation and outcome flags, packed into one field to keep tasks small
  // (a server may hold 100k of them); see the accessors below.
  /** @internal */ flags = 0;
  /** @internal */ scope: CancelScope | null = null;
  /** @internal */ joiners: JoinLike | JoinLike[] | null = null;

  constructor(kernel: Kernel, id: number, parent: Task<unknown> | null, frame: Iterator<unknown, unknown, unknown>, name: string | undefined) {
    this.kernel = kernel;
    this.id = id;
    this.parent = parent;
    this.frame = frame;
    if (name !== undefined) this.extras().label = name;
  }

  private extras(): TaskExtras {
    return (this.x ??= new TaskExtras());
  }

  /** Shown by `tasks()` and in error logs; `task-<id>` unless given at spawn. */
  get name(): string {
    return this.x?.label ?? `task-${this.id}`;
  }
  set name(value: string) {
    this.extras().label = value;
  }

  /** Number of children not yet done. */
  get childCount(): number {
    let n = 0;
    for (let c = this.firstChild; c !== null; c = c.nextSibling) n++;
    return n;
  }

  /** @internal the result or error, once the body has finished */
  get outcome(): unknown {
    return this.value;
  }
  set outcome(v: unknown) {
    this.value = v;
  }
  /** @internal frames below the running one (plainly yielded sub-generators) */
  get frames(): Iterator<unknown, unknown, unknown>[] | null {
    return this.x === null ? null : this.x.frames;
  }
  set frames(v: Iterator<unknown, unknown, unknown>[] | null) {
    if (v !== null || this.x !== null) this.extras().frames = v;
  }
  /** @internal the timer that escalates an overrunning cancellation */
  get grace(): GraceTimer | null {
    return this.x === null ? null : this.x.grace;
  }
  set grace(v: GraceTimer | null) {
    if (v !== null || this.x !== null) this.extras().grace = v;
  }
  /** @internal the parent's open shield this task was spawned inside: the parent's cancellation does not reach it while that is open */
  get shieldedBy(): CancelScope | null {
    return this.x === null ? null : this.x.shieldedBy;
  }
  set shieldedBy(v: CancelScope | null) {
    if (v !== null || this.x !== null) this.extras().shieldedBy = v;
  }
  /** @internal errors of children that failed unobserved */
  get childErrors(): unknown[] | null {
    return this.x === null ? null : this.x.childErrors;
  }
  set childErrors(v: unknown[] | null) {
    if (v !== null || this.x !== null) this.extras().childErrors = v;
  }

  /** @internal cancellation was requested for the whole task */
  get cancelled(): boolean {
    return (this.flags & F_CANCELLED) !== 0;
  }
  set cancelled(v: boolean) {
    this.flags = v ? this.flags | F_CANCELLED : this.flags & ~F_CANCELLED;
  }
  /** @internal the task-level Cancelled has been thrown once */
  get cancelDelivered(): boolean {
    return (this.flags & F_CANCEL_DELIVERED) !== 0;
  }
  set cancelDelivered(v: boolean) {
    this.flags = v ? this.flags | F_CANCEL_DELIVERED : this.flags & ~F_CANCEL_DELIVERED;
  }
  /** @internal the grace period is over: deliver at every yield */
  get hardCancel(): boolean {
    return (this.flags & F_HARD_CANCEL) !== 0;
  }
  set hardCancel(v: boolean) {
    this.flags = v ? this.flags | F_HARD_CANCEL : this.flags & ~F_HARD_CANCEL;
  }
  /** @internal some scope of this task may be cancelled: check at yields */
  get cancelHint(): boolean {
    return (this.flags & F_CANCEL_HINT) !== 0;
  }
  set cancelHint(v: boolean) {
    this.flags = v ? this.flags | F_CANCEL_HINT : this.flags & ~F_CANCEL_HINT;
  }
  /** @internal the outcome is an error */
  get failed(): boolean {
    return (this.flags & F_FAILED) !== 0;
  }
  set failed(v: boolean) {
    this.flags = v ? this.flags | F_FAILED : this.flags & ~F_FAILED;
  }

  /** Human-readable state. */
  get state(): TaskStateName {
    return STATE_NAMES[this.st]!;
  }

  /** True once the task and all its children have finished. */
  get isDone(): boolean {
    return this.st === DONE;
  }

  /** True if the task has been asked to cancel. */
  get isCancelled(): boolean {
    return (this.flags & F_CANCELLED) !== 0;
  }

  /** What the task is blocked on, e.g. `recv(127.0.0.1:5123)`, or its state. */
  get blockedOn(): string {
    if (this.st === SUSPENDED && this.waitingOn) return this.waitingOn.description;
    return this.state;
  }

  /** The result of a finished task (throws its error if it failed). */
  get result(): T {
    if (this.st !== DONE) throw new SkeinError("SKEIN_ERR_NOT_DONE", `task ${this.name} has not finished`);
    if (this.failed) throw this.outcome;
    return this.outcome as T;
  }

  /**
   * Completes the instruction this task is suspended in with `value`.
   * For use by {@link Instruction} implementations.
   */
  resume(value?: unknown): void {
    this.kernel.resume(this, NEXT, value);
  }

  /** Completes the instruction this task is suspended in by throwing `error` into the task. */
  fail(error: unknown): void {
    this.kernel.resume(this, THROW, error);
  }

  /**
   * Requests cancellation: `Cancelled` is thrown at the task's current (or
   * next) yield point and into every descendant. Returns at once; use
   * `yield* cancel(task)` to also wait until it has finished.
   */
  cancel(): void {
    this.kernel.cancelTask(this);
  }

  [Symbol.iterator](): Iterator<unknown, T, any> {
    // A task that finished with a result is its own (stateless) iterator:
    // joining it needs no suspension, so no Join and no trip through the kernel.
    if (this.st === DONE && !this.failed) return this as unknown as Iterator<unknown, T, any>;
    return new Join(this, false) as unknown as Iterator<unknown, T, any>;
  }

  /** @internal the iterator step of a task that finished with a result (see `[Symbol.iterator]`) */
  next(): IteratorResult<unknown, T> {
    if (this.st !== DONE || this.failed) throw new KernelError(`task ${this.name} stepped as a finished task's join while ${this.state}`);
    return { done: true, value: this.value as T };
  }

  toString(): string {
    return `Task(${this.id} ${this.name}: ${this.blockedOn})`;
  }
}

/** The rarely used parts of a task. */
class TaskExtras {
  label: string | undefined = undefined;
  frames: Iterator<unknown, unknown, unknown>[] | null = null;
  grace: GraceTimer | null = null;
  childErrors: unknown[] | null = null;
  shieldedBy: CancelScope | null = null;
}

/** Something waiting for a task to finish. */
export interface JoinLike {
  settle(failed: boolean, outcome: unknown): void;
  /** A quiet waiter (used by `cancel`) does not consume the task's error. */
  readonly quiet: boolean;
}

/** Waits for a task; rethrows its error unless quiet. */
export class Join<T> extends Instruction<T> implements JoinLike {
  private waiter: Task<unknown> | null = null;
  constructor(
    readonly target: Task<T>,
    readonly quiet: boolean,
  ) {
    super();
  }

  get description(): string {
    return `join(${this.target.name})`;
  }

  enter(task: Task<unknown>): Teardown | void {
    const target = this.target;
    if (target === task) throw new SkeinError("SKEIN_ERR_SELF_JOIN", `task ${task.name} cannot join itself`);
    if (target.st === DONE) {
      this.settleTask(task, target.failed, target.outcome);
      return;
    }
    this.waiter = task;
    const j = target.joiners;
    if (j === null) target.joiners = this;
    else if (Array.isArray(j)) j.push(this);
    else target.joiners = [j, this];
    return this.detach;
  }

  settle(failed: boolean, outcome: unknown): void {
    const waiter = this.waiter;
    if (waiter === null) return;
    this.waiter = null;
    this.settleTask(waiter, failed, outcome);
  }

  private settleTask(task: Task<unknown>, failed: boolean, outcome: unknown): void {
    if (this.quiet || !failed) task.resume(this.quiet ? undefined : outcome);
    else if (outcome instanceof Cancelled) task.fail(new TaskCancelledError(this.target));
    else task.fail(outcome);
  }

  private detach(this: Join<T>): void {
    this.waiter = null;
    const j = this.target.joiners;
    if (j === this) this.target.joiners = null;
    else if (Array.isArray(j)) {
      const i = j.indexOf(this);
      if (i >= 0) j.splice(i, 1);
    }
  }
}

/** Fires when a cancelled task's cleanup overruns its grace period. */
export class GraceTimer {
  at = 0;
  heapIndex = -1;
  heapSeq = 0;
  constructor(readonly task: Task<unknown>) {}
  onTimer(): void {
    this.task.kernel.hardCancel(this.task);
  }
}
