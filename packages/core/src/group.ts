/**
 * Structured concurrency helpers built on tasks: `group` (a nursery),
 * `all`, `race`, and `runAll` (Blackmamba's "run thousands of protocol
 * coroutines with a bound").
 */
import { currentTaskSync } from "./kernel.js";
import { Instruction, type Operation } from "./operation.js";
import { cancel, join, Spawn, spawn } from "./ops/spawn.js";
import { Event } from "./sync/event.js";
import { Semaphore } from "./sync/semaphore.js";
import type { SpawnOptions, Task } from "./task.js";

/** A nursery handle: tasks spawned through it belong to the group. */
export class Group {
  /** @internal */
  constructor(readonly task: Task<unknown>) {}
  /** Starts `op` as a member of this group. */
  spawn<T>(op: Operation<T> | (() => Operation<T>), options?: SpawnOptions): Instruction<Task<T>> {
    return new Spawn(op, options, this.task);
  }
  /**
   * Cancels every member still running and the group body. If the body had
   * not returned yet, `group()` throws `TaskCancelledError` (it has no result).
   */
  cancel(): void {
    this.task.cancel();
  }
}

/**
 * Runs `body` as a nursery (Giambio's task group, trio's nursery): it returns
 * only when every task spawned through the group has finished. If any member
 * fails, the others and the body are cancelled and the error is rethrown
 * here — an `AggregateError` if several failed.
 *
 * @example
 * yield* group(function* (g) {
 *   yield* g.spawn(fetch("/a"));
 *   yield* g.spawn(fetch("/b"));
 * }); // both done here
 */
export function* group<T>(body: (g: Group) => Operation<T>, options?: SpawnOptions): Generator<unknown, T, any> {
  const t = yield* spawn(function* () {
    return yield* body(new Group(currentTaskSync()));
  }, { name: options?.name ?? "group" });
  try {
    return yield* join(t);
  } finally {
    // The wait was abandoned (a deadline around the group, or the caller's
    // own cancellation): the members must not outlive the group. Cancel them
    // and wait for their cleanup, as a nursery's scope exit does.
    if (!t.isDone) yield* cancel(t);
  }
}

/**
 * Runs every operation concurrently and returns their results in order.
 * If one fails, the rest are cancelled and its error is thrown.
 *
 * @example
 * const [a, b] = yield* all([fetchA(), fetchB()]);
 */
export function all<const T extends readonly Operation<unknown>[]>(ops: T): Generator<unknown, { -readonly [K in keyof T]: T[K] extends Operation<infer R> ? R : never }, any>;
export function* all(ops: readonly Operation<unknown>[]): Generator<unknown, unknown[], any> {
  return yield* group(function* (g) {
    const tasks: Task<unknown>[] = [];
    for (const op of ops) tasks.push(yield* g.spawn(op));
    const results: unknown[] = [];
    for (const t of tasks) results.push(yield* join(t));
    return results;
  }, { name: "all" });
}

/**
 * Runs the operations concurrently; the first to finish wins: its result is
 * returned (or its error thrown) and the others are cancelled and awaited.
 *
 * The others are cancelled the moment the winner finishes, before any of
 * them runs again, and operations not yet started never start: a loser
 * waiting for a queue item or a permit gives it up untaken. One that had
 * already been handed its result in the same instant (an item put while the
 * winning timer fired) has it discarded, so for a deadline on an operation
 * that takes something, use `timeout`/`moveOnAfter`, which never lose it.
 *
 * @example
 * const first = yield* race([replicaA.get(), replicaB.get()]);
 */
export function race<T extends readonly Operation<unknown>[]>(ops: T): Generator<unknown, T[number] extends Operation<infer R> ? R : never, any>;
export function* race(ops: readonly Operation<unknown>[]): Generator<unknown, unknown, any> {
  if (ops.length === 0) throw new TypeError("race() needs at least one operation");
  return yield* group(function* (g) {
    let winner: Task<unknown> | null = null;
    const decided = new Event("race");
    const tasks: Task<unknown>[] = [];
    for (const op of ops) {
      tasks.push(
        yield* g.spawn(function* () {
          // Spawned before any ran: one whose turn comes after the race was decided never starts.
          if (winner !== null) return undefined;
          try {
            return yield* op;
          } finally {
            if (winner === null) {
              winner = currentTaskSync();
              for (const t of tasks) if (t !== winner) t.cancel();
              decided.set();
            }
          }
        }),
      );
    }
    yield* decided.wait();
    return yield* join(winner!);
  }, { name: "race" });
}

/** Options for {@link runAll}. */
export interface RunAllOptions {
  /** Most operations running at once. Default 1000. */
  concurrency?: number;
}

/**
 * Runs every operation a source yields, at most `concurrency` at a time,
 * and returns how many ran once all are done (Blackmamba's `run(generate())`).
 * A failure cancels the rest and is rethrown.
 *
 * @example
 * function* jobs() { for (let i = 0; i < 10_000; i++) yield download(i); }
 * yield* runAll(jobs(), { concurrency: 500 });
 */
export function* runAll(source: Iterable<Operation<unknown>>, options: RunAllOptions = {}): Generator<unknown, number, any> {
  const sem = new Semaphore(options.concurrency ?? 1000, "runAll");
  return yield* group(function* (g) {
    let count = 0;
    for (const op of source) {
      yield* sem.acquire();
      count++;
      yield* g.spawn(function* () {
        try {
          yield* op;
        } finally {
          sem.release();
        }
      });
    }
    return count;
  }, { name: "runAll" });
}
