import { SkeinError } from "../errors.js";
import { maybeCurrentTask } from "../kernel.js";
import { Instruction, type Operation, type Teardown } from "../operation.js";
import type { Task } from "../task.js";
import { WaitList, type Waiter } from "./wait-list.js";

class Acquire extends Instruction<void> implements Waiter {
  task: Task<unknown> | null = null;
  queued = false;
  constructor(private readonly sem: Semaphore) {
    super();
  }
  get description(): string {
    return `${this.sem.name}.acquire()`;
  }
  enter(task: Task<unknown>): Teardown | void {
    return this.sem.enterAcquire(this, task);
  }
  cancel(this: Acquire): void {
    this.sem.waiters.cancel(this);
  }
}

/**
 * A counting semaphore: at most `permits` holders at once, FIFO wake-ups.
 *
 * @example
 * const sem = new Semaphore(10);
 * yield* sem.with(download(url)); // at most 10 downloads at a time
 */
export class Semaphore {
  name: string;
  private free: number;
  /** @internal */ readonly waiters = new WaitList<Acquire>();

  constructor(
    readonly permits: number,
    name = "semaphore",
  ) {
    if (!(permits >= 1 && (Number.isInteger(permits) || permits === Infinity))) throw new RangeError(`semaphore permits must be a whole number >= 1, got ${permits}`);
    this.free = permits;
    this.name = name;
  }

  /** Permits not held. */
  get available(): number {
    return this.free;
  }

  /** Tasks waiting to acquire. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Takes a permit, suspending until one is free. */
  acquire(): Instruction<void> {
    return new Acquire(this);
  }

  /** Takes a permit if one is free now. */
  tryAcquire(): boolean {
    if (this.free === 0) return false;
    this.free--;
    this.granted(maybeCurrentTask());
    return true;
  }

  /** Returns a permit, handing it straight to the oldest waiter. */
  release(): void {
    this.releasing();
    const w = this.waiters.shift();
    if (w !== undefined) {
      const task = w.task!;
      w.task = null;
      this.granted(task);
      task.resume();
      return;
    }
    if (this.free === this.permits && this.permits !== Infinity) throw new RangeError(`${this.name}: release() without a matching acquire()`);
    this.free++;
  }

  /** Runs `op` holding a permit; the permit is returned however `op` ends. */
  *with<T>(op: Operation<T>): Generator<unknown, T, any> {
    yield* this.acquire();
    try {
      return yield* op;
    } finally {
      this.release();
    }
  }

  /** A permit went to `task` (null: taken outside a task). */
  protected granted(_task: Task<unknown> | null): void {}

  /** Called before a permit is returned (a Lock checks who returns it). */
  protected releasing(): void {}

  /** @internal */
  enterAcquire(op: Acquire, task: Task<unknown>): Teardown | void {
    if (this.free > 0 && this.waiters.size === 0) {
      this.free--;
      this.granted(task);
      return task.resume();
    }
    this.waiters.push(op, task);
    return op.cancel;
  }
}

/**
 * A mutual-exclusion lock (a semaphore of one).
 *
 * @example
 * yield* lock.with(updateSharedState());
 */
export class Lock extends Semaphore {
  #owner: Task<unknown> | null = null;

  constructor(name = "lock") {
    super(1, name);
  }
  get locked(): boolean {
    return this.available === 0;
  }

  /** The task holding the lock (null when free, or taken with `tryAcquire` outside a task). */
  get owner(): Task<unknown> | null {
    return this.locked ? this.#owner : null;
  }

  protected override granted(task: Task<unknown> | null): void {
    this.#owner = task;
  }

  /**
   * Only the holder may release (trio's rule): a release by another task
   * would let two tasks hold the lock at once. The holder's ancestors may
   * too (a lock taken by `race` or `all`, whose tasks acquire for their
   * caller; a task's parent link outlives it). Throws `SkeinError`
   * SKEIN_ERR_NOT_LOCK_OWNER.
   */
  protected override releasing(): void {
    const owner = this.#owner;
    if (!this.locked || owner === null) return;
    const me = maybeCurrentTask();
    for (let t: Task<unknown> | null = owner; t !== null; t = t.parent) if (t === me) return;
    throw new SkeinError("SKEIN_ERR_NOT_LOCK_OWNER", `${this.name}: release() by a task that does not hold it (held by ${owner.name})`);
  }
}
