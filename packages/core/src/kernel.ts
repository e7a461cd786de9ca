/**
 * The Skein microkernel.
 *
 * It knows only: a ready queue, timers, the task lifecycle, and "suspend this
 * task until resumed, with this teardown". It knows nothing about sockets,
 * HTTP or queues; every blocking operation lives in an {@link Instruction}
 * outside this file (curio's microkernel idea: decoupling).
 *
 * Speed: a task is resumed synchronously from the callback that unblocks it —
 * no Promise and no microtask per operation. The ready queue is a ring
 * buffer. Operations that complete at once continue in the same step, up to
 * a budget, after which the task goes to the back of the queue so a task that
 * never blocks cannot starve the others.
 */
import { RealClock, type Clock } from "./clock.js";
import { Cancelled, KernelError } from "./errors.js";
import { copiesLoaded, duplicateCoreError, foreignYieldError, Instruction, isForeignInstruction, isIterableOperation, type Operation } from "./operation.js";
import { Ring } from "./ring.js";
import { running, STEP_BUDGET } from "./running.js";
import { CancelScope, enclosingShield, outerCancellation, pendingCancellation } from "./scope-state.js";
import {
  DONE,
  ENTERING,
  GraceTimer,
  NEXT,
  READY,
  RESOLVED,
  RUNNING,
  SUSPENDED,
  Task,
  THROW,
  WAITING_CHILDREN,
  type JoinLike,
} from "./task.js";
import { TimerHeap, type TimerEntry } from "./timers.js";

/** Task steps per drain before the kernel lets the event loop run I/O. */
const DRAIN_BUDGET = 4096;
/**
 * Steps of a drain that runs all ready tasks (a virtual clock's `advance`):
 * a bound only against tasks that keep each other ready forever.
 */
const RUN_ALL_BUDGET = DRAIN_BUDGET * 256;
/** How deeply eagerly started children may nest before spawn falls back to queueing. */
const MAX_EAGER_DEPTH = 32;

/** Work to run once the ready queue is empty (corked socket writes). */
export interface Flushable {
  /** Set by the kernel while this is queued for the next flush; start it as false. */
  flushQueued: boolean;
  flush(): void;
}

/** Options shared by `run` and `main`. */
export interface KernelOptions {
  /** Time source; pass a `VirtualClock` in tests. Default: the real monotonic clock. */
  clock?: Clock;
  /**
   * How long a cancelled task's cleanup (`finally` blocks that yield) may run
   * before cancellation is delivered again at every yield point. Default 5000 ms;
   * `Infinity` disables the hard deadline.
   */
  graceMs?: number;
  /** Where uncaught errors of detached work are reported. Default `console.error`. */
  log?: (message: string, error?: unknown) => void;
}

/** The task whose code is running now. Throws outside a Skein task. */
export function currentTaskSync(): Task<unknown> {
  const current = running.task;
  if (current === null) {
    const message = "not inside a Skein task: operations must be yielded from a coroutine run by run()/main()";
    throw copiesLoaded() > 1 ? duplicateCoreError(message) : new TypeError(message);
  }
  return current;
}

/** Like {@link currentTaskSync} but returns null outside a task. */
export function maybeCurrentTask(): Task<unknown> | null {
  return running.task;
}

/** One scheduler: its tasks, timers and clock. `run()` creates one. */
export class Kernel {
  readonly clock: Clock;
  readonly graceMs: number;
  readonly log: (message: string, error?: unknown) => void;
  /** @internal */ readonly timers = new TimerHeap();
  private readonly ready = new Ring<Task<unknown>>(1024);
  private readonly flushers: Flushable[] = [];
  private draining = false;
  private batching = false;
  private eagerDepth = 0;
  /** Orders scope openings and deliveries (see `outerCancellation`). */
  private scopeSeq = 0;
  private drainDeferred = false;
  private nextId = 1;
  /** Tasks alive (not done), for insight and leak checks. */
  liveTasks = 0;
  /** The root task, once started. */
  root: Task<unknown> | null = null;

  constructor(options: KernelOptions = {}) {
    this.clock = options.clock ?? new RealClock();
    this.graceMs = options.graceMs ?? 5000;
    this.log = options.log ?? ((message, error) => console.error(message, error ?? ""));
  }

  /** Current time in ms, from this kernel's clock. */
  now(): number {
    return this.clock.now();
  }

  // ---- task lifecycle -------------------------------------------------

  /** Creates a task (linked under `parent`) and queues it to run. */
  spawn<T>(op: Operation<T> | (() => Operation<T>), parent: Task<unknown> | null, name?: string, joiner?: JoinLike): Task<T> {
    const task = this.create(op, parent, name, joiner);
    if (parent === null && this.root === null) this.root = task; // visible during the root's first step
    this.schedule(task);
    return task;
  }

  /**
   * Creates a child of the running task `parent` and runs it at once, inside
   * the parent's step, until it first blocks or finishes — the way calling an
   * async function runs its body up to the first `await` (asyncio's eager
   * tasks). A child that never blocks costs no trip through the ready queue.
   * `joiner`, if given, is settled with the child's outcome when it ends:
   * its failure is then handled there, not passed up to `parent`.
   */
  spawnEager<T>(op: Operation<T> | (() => Operation<T>), parent: Task<unknown>, name?: string, joiner?: JoinLike): Task<T> {
    if (this.eagerDepth >= MAX_EAGER_DEPTH || !this.draining) return this.spawn(op, parent, name, joiner);
    const task = this.create(op, parent, name, joiner);
    const prev = running.task;
    const budget = running.budget;
    this.eagerDepth++;
    try {
      this.step(task);
    } finally {
      this.eagerDepth--;
      running.task = prev;
      running.budget = budget;
    }
    return task;
  }

  /** A new live task for `op`, linked under `parent`, not yet scheduled. */
  private create<T>(op: Operation<T> | (() => Operation<T>), parent: Task<unknown> | null, name: string | undefined, joiner: JoinLike | undefined): Task<T> {
    const operation = typeof op === "function" ? op() : op;
    if (!isIterableOperation(operation)) throw foreignYieldError(operation);
    const frame = operation[Symbol.iterator]();
    if (frame instanceof Instruction) frame.reserve();
    const task = new Task<T>(this, this.nextId++, parent, frame, name);
    if (joiner !== undefined) task.joiners = joiner;
    if (parent !== null) this.link(task, parent);
    this.liveTasks++;
    return task;
  }

  private link(task: Task<unknown>, parent: Task<unknown>): void {
    const first = parent.firstChild;
    task.nextSibling = first;
    if (first !== null) first.prevSibling = task;
    parent.firstChild = task;
    // Spawned inside a shield (say `shield(all([...]))`): the parent's
    // cancellation does not reach this child until the shield closes.
    const shieldedBy = enclosingShield(parent.scope);
    if (shieldedBy !== null) {
      task.shieldedBy = shieldedBy;
      return;
    }
    // A child of a task whose cancellation is still pending is cancelled too.
    // Once Cancelled has been thrown, the parent is in its cleanup, which may
    // use tasks (all, race, group) until the grace period is over.
    if (parent.cancelled && (!parent.cancelDelivered || parent.hardCancel)) task.cancelled = task.cancelHint = true;
  }

  /** Makes `task` runnable with a value or error (called through `task.resume/fail`). */
  resume(task: Task<unknown>, mode: number, value: unknown): void {
    if (task.st === ENTERING) {
      task.mode = mode;
      task.value = value;
      task.st = RESOLVED;
      return;
    }
    if (task.st !== SUSPENDED) {
      throw new KernelError(`task ${task.name} resumed while ${task.state} (an operation completed twice or after its teardown)`);
    }
    task.teardown = undefined;
    task.waitingOn = null;
    task.mode = mode;
    task.value = value;
    this.schedule(task);
  }

  /** Puts a runnable task on the ready queue, and runs the queue if nothing is running it. */
  private schedule(task: Task<unknown>): void {
    task.st = READY;
    this.ready.push(task);
    if (!this.draining && !this.batching) this.drain();
  }

  /** Sends the running task to the back of the ready queue (let others run). */
  yieldTask(task: Task<unknown>): void {
    task.mode = NEXT;
    task.value = undefined;
    task.st = READY;
    this.ready.push(task);
  }

  /**
   * Runs ready tasks until none are left (or the budget says let I/O in;
   * `runAll`: a much larger budget, see {@link RUN_ALL_BUDGET}).
   */
  drain(runAll = false): void {
    if (this.draining) return;
    this.draining = true;
    const prev = running.task;
    const prevBudget = running.budget;
    const ready = this.ready;
    let steps = 0;
    try {
      let task: Task<unknown> | undefined;
      while ((task = ready.shift()) !== undefined) {
        if (task.st !== READY) continue;
        this.step(task);
        if (++steps === (runAll ? RUN_ALL_BUDGET : DRAIN_BUDGET) && ready.length > 0) {
          this.deferDrain();
          break;
        }
      }
    } finally {
      running.task = prev;
      running.budget = prevBudget;
      this.draining = false;
    }
    this.flush();
    if (ready.length === 0) this.clock.idle?.(this.busy);
  }

  /** Tasks are ready, or a drain was put off to let I/O in (for the clock's auto-jump). */
  private readonly busy = (): boolean => this.ready.length > 0 || this.drainDeferred;

  private deferDrain(): void {
    if (this.drainDeferred) return;
    this.drainDeferred = true;
    setImmediate(() => {
      this.drainDeferred = false;
      this.drain();
    });
  }

  /** Registers work to run when the ready queue next empties (at most once per drain). */
  deferFlush(f: Flushable): void {
    if (f.flushQueued) return;
    f.flushQueued = true;
    this.flushers.push(f);
    if (!this.draining && !this.batching) this.flush();
  }

  private flush(): void {
    const list = this.flushers;
    // Index loop: a flush may queue another flusher.
    for (let i = 0; i < list.length; i++) {
      const f = list[i]!;
      f.flushQueued = false;
      try {
        f.flush();
      } catch (e) {
        this.log("skein: flush failed", e);
      }
    }
    list.length = 0;
  }

  /** Advances one task until it suspends, finishes, or spends its budget. */
  private step(task: Task<unknown>): void {
    running.task = task;
    running.budget = STEP_BUDGET;
    task.st = RUNNING;
    let mode = task.mode;
    let value = task.value;
    task.value = undefined;
    for (;;) {
      let r: IteratorResult<unknown, unknown>;
      const frame = task.frame;
      try {
        if (mode === NEXT) r = frame.next(value);
        else if (frame.throw !== undefined) r = frame.throw(value);
        else {
          frame.return?.();
          throw value;
        }
      } catch (error) {
        const below = task.frames;
        if (below !== null && below.length > 0) {
          task.frame = below.pop()!;
          mode = THROW;
          value = error;
          continue;
        }
        this.finishBody(task, true, error);
        return;
      }
      if (r.done === true) {
        const below = task.frames;
        if (below !== null && below.length > 0) {
          task.frame = below.pop()!;
          mode = NEXT;
          value = r.value;
          continue;
        }
        this.finishBody(task, false, r.value);
        return;
      }
      const st = task.st;
      if (st !== RUNNING) {
        // The instruction was entered inline by its own next() (see
        // Instruction) and had to wait; the generator has now yielded.
        // Code between that next() and this yield (a driver such as http's,
        // which takes a handler's first step itself) may have completed the
        // wait (RESOLVED) or cancelled the task; READY: it queued the task
        // again (yieldNow).
        if (st === ENTERING) {
          task.st = SUSPENDED;
          if (task.cancelHint) this.abort(task);
          return;
        }
        if (st !== RESOLVED) return;
        task.teardown = undefined;
        task.waitingOn = null;
        mode = task.mode;
        value = task.value;
        task.value = undefined;
        task.st = RUNNING;
        continue;
      }
      const y = r.value;
      // Every yield is a cancellation checkpoint.
      if (task.cancelHint) {
        const scope = pendingCancellation(task);
        if (scope !== null) {
          mode = THROW;
          value = this.deliver(task, scope);
          continue;
        }
      }
      if (y instanceof Instruction) {
        task.st = ENTERING;
        let teardown;
        try {
          teardown = y.enter(task);
        } catch (error) {
          task.st = RUNNING;
          mode = THROW;
          value = error;
          continue;
        }
        const st = task.st;
        if (st === ENTERING) {
          task.st = SUSPENDED;
          task.teardown = teardown;
          task.waitingOn = y;
          if (task.cancelHint) this.abort(task);
          return;
        }
        if (st === READY) return; // the instruction requeued the task (yieldNow)
        // RESOLVED: completed synchronously.
        mode = task.mode;
        value = task.value;
        task.value = undefined;
        task.st = RUNNING;
        if (--running.budget <= 0) {
          task.mode = mode;
          task.value = value;
          task.st = READY;
          this.ready.push(task);
          return;
        }
        continue;
      }
      if (y === null || y === undefined) {
        this.yieldTask(task);
        return;
      }
      if (isIterableOperation(y)) {
        if (isForeignInstruction(y)) {
          // Iterating it as a sub-coroutine would yield it again forever.
          mode = THROW;
          value = duplicateCoreError(`a Skein task yielded ${String((y as { description?: unknown }).description ?? "an operation")} made by another copy of @skein/core`);
          continue;
        }
        const below = task.frames;
        if (below === null) task.frames = [frame];
        else below.push(frame);
        task.frame = y[Symbol.iterator]();
        mode = NEXT;
        value = undefined;
        continue;
      }
      mode = THROW;
      value = foreignYieldError(y);
    }
  }

  // ---- finishing --------------------------------------------------------

  private finishBody(task: Task<unknown>, failed: boolean, outcome: unknown): void {
    task.frame = FINISHED;
    task.frames = null;
    task.failed = failed;
    task.outcome = outcome;
    if (task.firstChild !== null) {
      task.st = WAITING_CHILDREN;
      if (failed) for (let c: Task<unknown> | null = task.firstChild; c !== null; c = c.nextSibling) this.cancelTask(c);
      return;
    }
    this.complete(task);
  }

  /** Finishes `task`, then each ancestor that was only waiting for it (a loop: task trees may be deep). */
  private complete(task: Task<unknown>): void {
    for (;;) {
      const parent = this.completeOne(task);
      if (parent === null || parent.st !== WAITING_CHILDREN || parent.firstChild !== null) return;
      task = parent;
    }
  }

  /** Finishes one task; returns its parent. */
  private completeOne(task: Task<unknown>): Task<unknown> | null {
    const errors = task.childErrors;
    if (errors !== null) {
      // The body may have joined a failed child and rethrown its error: one error, not two copies.
      if (task.failed && !(task.outcome instanceof Cancelled) && !errors.includes(task.outcome)) errors.unshift(task.outcome);
      task.failed = true;
      task.outcome = errors.length === 1 ? errors[0] : new AggregateError(errors, `${errors.length} tasks under ${task.name} failed`);
      task.childErrors = null;
    }
    task.st = DONE;
    this.liveTasks--;
    if (task.grace !== null) {
      // removeTimer, not timers.remove: the last timer must also disarm the
      // clock, or its Node timer keeps the process alive for the grace period.
      this.removeTimer(task.grace);
      task.grace = null;
    }
    const parent = task.parent;
    if (parent !== null) {
      const prev = task.prevSibling;
      const next = task.nextSibling;
      if (prev !== null) prev.nextSibling = next;
      else parent.firstChild = next;
      if (next !== null) next.prevSibling = prev;
      task.prevSibling = task.nextSibling = null;
    }
    let handled = false;
    const joiners = task.joiners;
    task.joiners = null;
    if (joiners !== null) {
      if (Array.isArray(joiners)) for (const j of joiners) handled = this.settleJoiner(j, task) || handled;
      else handled = this.settleJoiner(joiners, task);
    }
    if (task.failed && !handled && parent !== null && !(task.outcome instanceof Cancelled)) {
      // Structured concurrency: an unobserved failure cancels the parent
      // (and so the failed task's siblings) and is rethrown by the parent.
      const siblingsErrors = parent.childErrors;
      if (siblingsErrors === null) parent.childErrors = [task.outcome];
      else siblingsErrors.push(task.outcome);
      this.cancelTask(parent);
    }
    return parent;
  }

  private settleJoiner(j: JoinLike, task: Task<unknown>): boolean {
    j.settle(task.failed, task.outcome);
    return !j.quiet;
  }

  /**
   * @internal Runs `fn` with scheduling held back: the tasks it wakes run
   * once it returns, in order, rather than each at once when woken from
   * outside a task.
   */
  batch(fn: () => void): void {
    const outer = this.batching;
    this.batching = true;
    try {
      fn();
    } finally {
      this.batching = outer;
    }
    if (!outer && !this.draining) this.drain();
  }

  // ---- cancellation -----------------------------------------------------

  /** Cancels `task` and all its descendants (see `Task.cancel`). */
  cancelTask(task: Task<unknown>): void {
    if (task.st === DONE) return;
    // Mark the whole subtree before any cleanup runs. Called from outside a
    // drain (an I/O callback, a signal handler), aborting a child would
    // otherwise run it to completion at once and unlink it from the sibling
    // list this walk follows, so its later siblings were never cancelled.
    const outer = this.batching;
    this.batching = true;
    try {
      this.markCancelled(task);
    } finally {
      this.batching = outer;
    }
    if (!outer && !this.draining) this.drain();
  }

  /**
   * Marks `root` and its descendants (but not those under an open shield)
   * cancelled, and aborts each suspended one after its children. A walk over
   * the sibling links, not recursion: task trees may be deep.
   */
  private markCancelled(root: Task<unknown>): void {
    if (root.st === DONE) return;
    let t = root;
    for (;;) {
      if (!t.cancelled) {
        t.cancelled = true;
        t.cancelHint = true;
      }
      const child = unshieldedFrom(t.firstChild);
      if (child !== null) {
        t = child;
        continue;
      }
      // A leaf: abort it and every ancestor whose children are all done, up
      // to one with a sibling still to visit.
      for (;;) {
        if (t.st === SUSPENDED) this.abort(t);
        if (t === root) return;
        const sibling = unshieldedFrom(t.nextSibling);
        if (sibling !== null) {
          t = sibling;
          break;
        }
        t = t.parent!;
      }
    }
  }

  /** Cancels one scope of a task (a deadline passed). */
  cancelScope(scope: CancelScope): void {
    if (scope.cancelled) return;
    scope.cancelled = true;
    const task = scope.task;
    task.cancelHint = true;
    if (task.st === SUSPENDED) this.abort(task);
  }

  /** Escalates a cancelled task whose cleanup overran the grace period. */
  hardCancel(task: Task<unknown>): void {
    task.grace = null;
    task.hardCancel = true;
    task.cancelHint = true;
    if (task.st === SUSPENDED) this.abort(task);
  }

  /** Interrupts a suspended task with Cancelled, if a cancellation is pending for it. */
  private abort(task: Task<unknown>): void {
    const scope = pendingCancellation(task);
    if (scope === null) return;
    const teardown = task.teardown;
    const on = task.waitingOn;
    task.teardown = undefined;
    task.waitingOn = null;
    if (teardown) teardown.call(on);
    task.mode = THROW;
    task.value = this.deliver(task, scope);
    this.schedule(task);
  }

  /** Marks a scope's cancellation as delivered and builds the error to throw. */
  private deliver(task: Task<unknown>, scope: CancelScope | Task<unknown>): Cancelled {
    if (scope instanceof CancelScope) {
      scope.delivered = true;
      if (scope.deliveredSeq === 0) scope.deliveredSeq = ++this.scopeSeq;
      return new Cancelled(scope, scope.reason);
    }
    if (!task.cancelDelivered) {
      task.cancelDelivered = true;
      if (Number.isFinite(this.graceMs)) {
        const grace = new GraceTimer(task);
        task.grace = grace;
        this.addTimer(grace, this.now() + this.graceMs);
      }
    }
    return new Cancelled(task, task.hardCancel ? "task was cancelled (grace period over)" : "task was cancelled");
  }

  /**
   * What a deadline scope that caught its own Cancelled must throw instead
   * of converting it (TimeoutError, `undefined`): the Cancelled of a
   * cancellation outside it that reaches it, or null when there is none.
   */
  supersede(scope: CancelScope): Cancelled | null {
    const outer = outerCancellation(scope);
    return outer === null ? null : this.deliver(scope.task, outer);
  }

  /** Opens a cancel scope on the running task (used by timeout, moveOnAfter, shield). */
  openScope(task: Task<unknown>, shield: boolean, deadline: number, reason: string): CancelScope {
    const scope = new CancelScope(task, task.scope, shield, reason);
    scope.openedSeq = ++this.scopeSeq;
    scope.openedInCleanup = task.cancelDelivered;
    task.scope = scope;
    if (deadline !== Infinity) this.addTimer(scope, deadline);
    return scope;
  }

  /** Closes the innermost scope. */
  closeScope(scope: CancelScope): void {
    if (scope.heapIndex !== -1) this.removeTimer(scope);
    const task = scope.task;
    if (task.scope !== scope) throw new KernelError("cancel scopes closed out of order");
    task.scope = scope.parent;
    if (scope.shield) this.unshield(task, scope);
  }

  /** A shield closed: children spawned inside it move to the next shield out, or meet the task's cancellation. */
  private unshield(task: Task<unknown>, scope: CancelScope): void {
    const outer = enclosingShield(scope.parent);
    for (let c = task.firstChild; c !== null; c = c.nextSibling) {
      if (c.shieldedBy !== scope) continue;
      c.shieldedBy = outer;
      if (outer === null && task.cancelled) this.markCancelled(c);
    }
  }

  // ---- timers -----------------------------------------------------------

  /** Schedules `entry.onTimer()` at absolute time `at`. */
  addTimer(entry: TimerEntry, at: number): void {
    if (Number.isNaN(at)) throw new RangeError("a timer due at NaN (a duration that is not a number, or a clock that returned NaN)");
    entry.at = at;
    this.timers.insert(entry);
    if (entry.heapIndex === 0) this.clock.wakeAt(at, this.onWake);
  }

  /** Cancels a scheduled timer (no-op if it already fired). */
  removeTimer(entry: TimerEntry): void {
    const wasNext = entry.heapIndex === 0;
    this.timers.remove(entry);
    if (this.timers.size === 0) this.clock.cancelWake();
    // The next wake-up moves later: a real clock keeps its earlier timer (a
    // spurious wake is cheaper than re-arming), a virtual one must know, or
    // jump() would land on the cancelled deadline.
    else if (wasNext) this.clock.wakeAt(this.timers.nextAt, this.onWake);
  }

  private readonly onWake = (runAll?: boolean): void => {
    const now = this.clock.now();
    this.batching = true;
    try {
      let due: TimerEntry | undefined;
      while ((due = this.timers.popDue(now)) !== undefined) due.onTimer();
    } finally {
      this.batching = false;
    }
    if (this.timers.size > 0) this.clock.wakeAt(this.timers.nextAt, this.onWake);
    this.drain(runAll === true);
  };
}

/** The first task from `t` along the sibling list that no open shield protects, or null. */
function unshieldedFrom(t: Task<unknown> | null): Task<unknown> | null {
  while (t !== null && t.shieldedBy !== null) t = t.nextSibling;
  return t;
}

const FINISHED: Iterator<unknown, unknown, unknown> = {
  next() {
    throw new KernelError("stepped a finished task");
  },
};
