/**
 * Operations: what a Skein task yields to the kernel.
 *
 * An `Operation<T>` is anything whose `yield*` produces a `T`: a generator
 * (a sub-coroutine) or an {@link Instruction} (a primitive the kernel runs).
 * The same object may also be yielded plainly — `yield sleep(5)`, the style
 * of Bluelet and the other seeds — in which case the result is untyped.
 */
import { ENTERING, F_CANCEL_HINT, RESOLVED, RUNNING, running, THROW } from "./running.js";
import type { Task } from "./task.js";

/** Something a task can `yield*` to get a `T`. Generators returning `T` are operations. */
export interface Operation<T> {
  [Symbol.iterator](): Iterator<unknown, T, any>;
}

/** The result type of an operation. */
export type Result<O> = O extends Operation<infer T> ? T : never;

/** Undoes a suspension: removes listeners, clears timers. Must not throw. */
export type Teardown = () => void;

// Reused iterator results. Whoever calls `next()` on an instruction — V8's
// `yield*` machinery or the kernel — reads `done`/`value` at once and keeps
// neither object, so two shared, mutated results replace two allocations per
// operation (measurably less garbage on spawn-heavy and switch-heavy loads).
const yielded: { done: false; value: unknown } = { done: false, value: undefined };
const finished: { done: true; value: unknown } = { done: true, value: undefined };

/**
 * A primitive operation, run by the kernel itself. Subclasses describe what
 * they wait for and implement {@link Instruction.enter}: either complete at
 * once (call `task.resume(value)` / `task.fail(error)` before returning) or
 * register a wake-up and return its {@link Teardown}, which the kernel calls
 * if the task is cancelled while suspended (curio's `suspend_task(state,
 * cancel_func)`, trio's `abort_func`). A teardown returned together with a
 * synchronous completion is ignored.
 *
 * The instance is its own iterator, so `yield* op` costs no extra objects.
 * Its first `next()` — called by V8's `yield*` inside the running task —
 * enters the instruction right there: one that completes at once (a `put`
 * with room, a `get` with an item waiting, `spawn`) returns its value without
 * suspending the generator or going through the kernel, as a promise that
 * is already settled costs `await` nothing but a microtask. Only one that
 * must wait hands itself to the kernel, which suspends the task; the second
 * `next()` then returns the value the task was resumed with. Every kernel
 * rule still holds: a task with a cancellation pending, or one that has
 * used its step budget, takes the kernel's path (its checkpoint, its turn).
 */
export abstract class Instruction<T> implements Operation<T>, Iterator<unknown, T, any> {
  // Assigned in the constructor, not as a class field: a field initializer is
  // an extra call on every construction, and instructions are built per operation.
  /**
   * @internal Where a `yield*` of this instance stands: 0 idle; 1 its first
   * `next()` has handed it over and the second returns its value; 2 reserved
   * as the whole body of a task not yet run (see {@link reserve}).
   */
  protected stepped: 0 | 1 | 2;

  constructor() {
    this.stepped = 0;
  }

  /** What a task suspended here is waiting for, e.g. `sleep(50)`; shown by `tasks()`. */
  abstract get description(): string;

  /**
   * @internal True while a `yield*` of this instance has not finished: a task
   * waits in it, or was woken (cancelled, timed out) and has not yet run to
   * take its result. A cached instruction handed out again must be a fresh
   * one while this holds.
   */
  get inUse(): boolean {
    return this.stepped !== 0;
  }

  /**
   * @internal Marks the instance as the body of a task about to be created
   * (`spawn(get)`, `all([get, get])`): the task steps it later, and until then
   * a second task given the same instance must be refused, not handed an
   * instruction that looks half-finished.
   */
  reserve(): void {
    this.stepped = 2;
  }

  /** Runs the primitive for `task`; see the class comment. */
  abstract enter(task: Task): Teardown | void;

  /**
   * Starts a `yield*` of this instruction. One instruction value serves one
   * wait at a time: yielding it again after it completed is fine (the same
   * sleep, the same put), but not while a task still waits on it — that is
   * a TypeError, where it would otherwise lose one of the two wake-ups.
   */
  [Symbol.iterator](): this {
    if (this.stepped !== 0) throw inUseError(this);
    return this;
  }

  next(value?: any): IteratorResult<unknown, T> {
    if (this.stepped === 1) {
      this.stepped = 0;
      finished.value = value;
      return finished as IteratorResult<unknown, T>;
    }
    this.stepped = 1;
    const task = running.task;
    if (task !== null && running.budget > 0 && task.st === RUNNING && (task.flags & F_CANCEL_HINT) === 0) return this.enterInline(task);
    yielded.value = this;
    return yielded;
  }

  /** The inline path of `next()` (see the class comment): what the kernel's step loop does for a yielded instruction. */
  private enterInline(task: Task<unknown>): IteratorResult<unknown, T> {
    running.budget--;
    task.st = ENTERING;
    let teardown: Teardown | void;
    try {
      teardown = this.enter(task);
    } catch (error) {
      task.st = RUNNING;
      this.stepped = 0;
      throw error;
    }
    const st = task.st;
    if (st === RESOLVED) {
      task.st = RUNNING;
      this.stepped = 0;
      const v = task.value;
      task.value = undefined;
      if (task.mode === THROW) throw v;
      finished.value = v;
      return finished as IteratorResult<unknown, T>;
    }
    // It must wait (ENTERING: the kernel marks the task suspended once the
    // generator has yielded), or it queued the task again (READY: yieldNow).
    if (st === ENTERING) {
      task.teardown = teardown;
      task.waitingOn = this;
    }
    yielded.value = this;
    return yielded;
  }

  throw(error: unknown): IteratorResult<unknown, T> {
    this.stepped = 0;
    throw error;
  }

  return(value: T): IteratorResult<unknown, T> {
    this.stepped = 0;
    return { done: true, value: value as T };
  }
}

/**
 * An instruction that always suspends its task through the kernel, never
 * entered inline: for instructions that act on the task's generator frames
 * (`end()` returns from the running frame) or must resume it for real (a
 * frame keeps the value it was last resumed with until resumed again).
 */
export abstract class KernelInstruction<T> extends Instruction<T> {
  override next(value?: any): IteratorResult<unknown, T> {
    if (this.stepped === 1) {
      this.stepped = 0;
      finished.value = value;
      return finished as IteratorResult<unknown, T>;
    }
    this.stepped = 1;
    yielded.value = this;
    return yielded;
  }
}

// How many copies of this module the process has evaluated, shared through
// the global symbol registry so every copy sees the same count. Two copies
// (two installed versions, or a bundle that inlined its own) mean two
// \`Instruction\` classes and two current-task pointers: operations of one
// are not recognised by the kernel of the other.
const copies = ((globalThis as { [key: symbol]: { count: number } | undefined })[Symbol.for("skein.core.copies")] ??= { count: 0 });
copies.count++;

/** How many copies of @skein/core this process has loaded (1 normally). */
export function copiesLoaded(): number {
  return copies.count;
}

/** True when `value` is an instruction made by another copy of @skein/core. */
export function isForeignInstruction(value: object): boolean {
  return typeof (value as { enter?: unknown }).enter === "function" && !(value instanceof Instruction);
}

/** The TypeError for an operation or call that crossed two copies of @skein/core; `what` says what was found. */
export function duplicateCoreError(what: string): TypeError {
  const loaded = copies.count > 1 ? `${copies.count} copies of @skein/core are loaded in this process` : "another copy of @skein/core is in use";
  return new TypeError(
    `${what}: ${loaded}, and each has its own kernel. Install one version ` +
      "(`npm ls @skein/core` / `pnpm why @skein/core` shows where the others come from) and do not bundle @skein/core into a library",
  );
}

/** True for values a task may yield plainly as a sub-coroutine (generators and other operations). */
export function isIterableOperation(value: unknown): value is Operation<unknown> {
  return (
    value !== null &&
    typeof value === "object" &&
    typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function" &&
    !Array.isArray(value) &&
    !(value instanceof Map) &&
    !(value instanceof Set)
  );
}

/**
 * The TypeError thrown into a task that yielded something the kernel cannot
 * run; `subject` names who got it (`timeout() was given`).
 */
export function foreignYieldError(value: unknown, subject = "a Skein task yielded"): TypeError {
  if (value !== null && (typeof value === "object" || typeof value === "function") && typeof (value as PromiseLike<unknown>).then === "function") {
    return new TypeError(
      `${subject} a Promise. Tasks do not await promises: write \`yield* wait(promise)\` ` +
        "to suspend until it settles (are you calling an async library from a coroutine?)",
    );
  }
  if (typeof value === "function") {
    return new TypeError(`${subject} a function. Call it and use the operation it returns instead: \`yield* fn()\``);
  }
  const shown = typeof value === "string" ? JSON.stringify(value) : Array.isArray(value) ? "an array" : String(value);
  return new TypeError(
    `${subject} ${shown}, which is not an operation. Yield operations (\`yield* sleep(10)\`), ` +
      "generators (`yield* child()`), or `null` to let other tasks run; use `all([...])` for several operations",
  );
}

/** `op` when it is an operation, else the TypeError saying what to pass instead (`what`: the function given it, e.g. `timeout()`). */
export function checkOperation<T>(op: Operation<T>, what: string): Operation<T> {
  if (isIterableOperation(op)) return op;
  throw foreignYieldError(op, `${what} was given`);
}

/**
 * The TypeError for an instruction yielded while a task still waits on it
 * (two tasks sharing `const tick = sleep(1000)`): it holds one waiter.
 */
export function inUseError(op: { readonly description: string }): TypeError {
  return new TypeError(`${op.description} is already being waited on: an operation value serves one wait at a time; create one for each task (call sleep(), get(), … again)`);
}
