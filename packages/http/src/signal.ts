/**
 * `Signal`: a reusable wake-up for exactly one waiting task — the reader
 * waiting for look-ahead room, the responder waiting for the next request, a
 * handler waiting for body bytes. One instance per role per connection, so
 * waiting allocates nothing (an `Event` allocates a waiter per wait).
 *
 * @module
 */
import { Instruction, type Task, type Teardown } from "@skein/core";

/**
 * A one-task wake-up built on core's public `Instruction`. `wake()` before
 * `wait()` is remembered (the next wait returns at once).
 *
 * @example
 * const more = new Signal("body");
 * // consumer: while (!ready()) yield* more.wait();
 * // producer: more.wake();
 */
export class Signal extends Instruction<void> {
  #task: Task<unknown> | null = null;
  #pending = false;
  readonly #what: string;

  constructor(what: string) {
    super();
    this.#what = what;
  }

  /** Shown by `tasks()`. */
  get description(): string {
    return this.#what;
  }

  /** True while a task is suspended in {@link wait}. */
  get waiting(): boolean {
    return this.#task !== null;
  }

  /**
   * Suspends until {@link wake} (returns at once if a wake is pending). The
   * signal itself is the instruction, except while a `yield*` of it is
   * unfinished — a waiter cancelled a moment ago has not yet run to take its
   * `Cancelled` — when the next waiter gets an instruction of its own.
   */
  wait(): Instruction<void> {
    return this.stepped ? new SignalWait(this) : this;
  }

  /** @internal */
  enter(task: Task<unknown>): Teardown | void {
    if (this.#pending) {
      this.#pending = false;
      task.resume();
      return;
    }
    if (this.#task !== null) throw new TypeError(`two tasks cannot wait for ${this.#what} at once`);
    this.#task = task;
    // A prototype method, not a closure per signal: the kernel calls a
    // teardown with the instruction as `this`.
    return Signal.prototype.cancelWait;
  }

  /** Wakes the waiting task, or remembers the wake for the next wait. */
  wake(): void {
    const task = this.#task;
    if (task === null) {
      this.#pending = true;
      return;
    }
    this.#task = null;
    task.resume();
  }

  /** Forgets a remembered wake. */
  reset(): void {
    this.#pending = false;
  }

  /** @internal the teardown: the waiting task was cancelled */
  cancelWait(this: Signal): void {
    this.#task = null;
  }
}

/** A wait on a {@link Signal} whose own instruction is still held by a waiter that was cancelled and has not run yet. */
class SignalWait extends Instruction<void> {
  readonly #signal: Signal;

  constructor(signal: Signal) {
    super();
    this.#signal = signal;
  }

  get description(): string {
    return this.#signal.description;
  }

  enter(task: Task<unknown>): Teardown | void {
    if (this.#signal.enter(task) !== undefined) return SignalWait.prototype.cancelWait;
  }

  cancelWait(this: SignalWait): void {
    this.#signal.cancelWait();
  }
}
