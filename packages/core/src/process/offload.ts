/**
 * `offload(fn, ...args)`: run blocking or CPU-heavy work on a pool of worker
 * threads, as an operation. The function travels as source text
 * (`fn.toString()`) and the arguments and result by structured clone, so the
 * function must be self-contained: it sees its parameters and `require` (for
 * Node's built-ins), never the caller's variables.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { SkeinError } from "../errors.js";
import { Instruction, type Teardown } from "../operation.js";
import { Ring } from "../ring.js";
import type { Task } from "../task.js";
import { WORKER_SOURCE } from "./offload-worker.js";

/**
 * An offloaded function failed. `message` and `stack` are the original
 * error's (as thrown in the worker); `remoteName` is its class name
 * (`RangeError`) and `remoteCode` its `code`, if it had one. Code
 * `SKEIN_ERR_OFFLOAD`, or `SKEIN_ERR_WORKER_EXITED` when the worker thread
 * itself died (an uncaught error outside the function, `process.exit`, out
 * of memory).
 */
export class OffloadError extends SkeinError {
  readonly remoteName: string;
  readonly remoteCode: string | number | undefined;
  constructor(code: string, remote: { name: string; message: string; stack?: string | undefined; code?: string | number | undefined }) {
    super(code, remote.message);
    this.remoteName = remote.name;
    this.remoteCode = remote.code;
    if (remote.stack !== undefined) this.stack = remote.stack;
  }
}

/** Options for a {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Most worker threads. Default `os.availableParallelism()`. */
  size?: number;
  /** Idle time after which all threads are stopped; they restart on demand. Default 5000 ms. */
  idleMs?: number;
}

type WorkerReply = { ok: true; value: unknown } | { ok: false; error: { name: string; message: string; stack?: string; code?: string | number } };

/** One call waiting for, or running on, a worker. */
class Job {
  task: Task<unknown> | null;
  thread: Thread | null = null;
  constructor(
    readonly src: string,
    readonly args: unknown[],
    task: Task<unknown>,
  ) {
    this.task = task;
  }
  /** True once settled or abandoned: nobody waits for the result any more. */
  get done(): boolean {
    return this.task === null;
  }
  settle(ok: boolean, value: unknown): void {
    const task = this.task;
    if (task === null) return;
    this.task = null;
    if (ok) task.resume(value);
    else task.fail(value);
  }
}

/** A worker thread and the job it runs. */
class Thread {
  job: Job | null = null;
  /** Set when the pool let go of this thread (terminated it or saw it exit). */
  gone = false;
  constructor(readonly worker: Worker) {}
}

class Offload<R> extends Instruction<R> {
  constructor(
    private readonly pool: WorkerPool,
    private readonly name: string,
    private readonly src: string,
    private readonly args: unknown[],
  ) {
    super();
  }
  get description(): string {
    return `offload(${this.name})`;
  }
  enter(task: Task<unknown>): Teardown | void {
    const job = new Job(this.src, this.args, task);
    this.pool.submit(job);
    if (job.done) return;
    return () => this.pool.abandon(job);
  }
}

/**
 * A pool of worker threads for {@link offload}. Threads start lazily (one
 * per job in flight, up to `size`), are unref'd while idle so they never keep
 * the process alive, and are all stopped after `idleMs` without work.
 *
 * @example
 * const pool = new WorkerPool({ size: 2 });
 * const digest = yield* pool.run((s: string) => require("node:crypto").createHash("sha256").update(s).digest("hex"), text);
 */
export class WorkerPool {
  readonly size: number;
  readonly idleMs: number;
  private readonly threads = new Set<Thread>();
  private readonly idle: Thread[] = [];
  private readonly queue = new Ring<Job>(16);
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(options: WorkerPoolOptions = {}) {
    const size = options.size ?? availableParallelism();
    if (!(size >= 1) || !Number.isInteger(size)) throw new RangeError(`worker pool size must be a positive integer, got ${size}`);
    this.size = size;
    this.idleMs = options.idleMs ?? 5000;
  }

  /** Worker threads currently started. */
  get threadCount(): number {
    return this.threads.size;
  }

  /** Threads running a job. */
  get busy(): number {
    return this.threads.size - this.idle.length;
  }

  /** Runs `fn(...args)` on a worker thread; see {@link offload}. */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Instruction<Awaited<R>> {
    if (typeof fn !== "function") throw new TypeError("offload() needs a function");
    const src = fn.toString();
    if (src.endsWith("{ [native code] }")) {
      throw new TypeError("offload() cannot send a native or bound function to a worker; wrap it: `offload((x) => Math.sqrt(x), 2)`");
    }
    return new Offload<Awaited<R>>(this, fn.name || "anonymous", src, args);
  }

  /** Stops every thread now; jobs still running or queued fail with `SKEIN_ERR_WORKER_EXITED`. */
  async close(): Promise<void> {
    this.clearIdleTimer();
    let job: Job | undefined;
    while ((job = this.queue.shift()) !== undefined) job.settle(false, exitedError("the worker pool was closed"));
    const stopping: Promise<number>[] = [];
    for (const t of [...this.threads]) {
      t.job?.settle(false, exitedError("the worker pool was closed"));
      stopping.push(this.drop(t));
    }
    await Promise.all(stopping);
  }

  /** @internal Queues or starts a job. */
  submit(job: Job): void {
    this.clearIdleTimer();
    const thread = this.idle.pop() ?? (this.threads.size < this.size ? this.spawn() : undefined);
    if (thread === undefined) this.queue.push(job);
    else this.dispatch(thread, job);
  }

  /**
   * @internal The waiting task was cancelled: forget a queued job; stop the
   * thread running a started one (a thread cannot be interrupted otherwise)
   * and start a replacement if work is waiting.
   */
  abandon(job: Job): void {
    job.task = null; // a queued job is skipped when its turn comes
    const thread = job.thread;
    if (thread === null || thread.job !== job) return;
    void this.drop(thread);
    this.next();
  }

  private spawn(): Thread {
    const worker = new Worker(WORKER_SOURCE, { eval: true, name: "skein-offload" });
    const thread = new Thread(worker);
    let crash: Error | undefined;
    worker.on("message", (reply: WorkerReply) => this.onReply(thread, reply));
    worker.on("error", (err) => {
      crash = err;
    });
    worker.on("exit", (code) => {
      if (thread.gone) return;
      // The thread died on its own: fail its job, forget it, carry on with the queue.
      this.forget(thread);
      const e = crash;
      thread.job?.settle(false, exitedError(e ? `the worker thread died: ${e.message}` : `the worker thread exited with code ${code}`, e));
      thread.job = null;
      this.next();
    });
    this.threads.add(thread);
    return thread;
  }

  private dispatch(thread: Thread, job: Job): void {
    thread.job = job;
    job.thread = thread;
    thread.worker.ref();
    try {
      thread.worker.postMessage({ src: job.src, args: job.args });
    } catch (e) {
      // The arguments cannot be cloned (DataCloneError); the thread is untouched.
      thread.job = null;
      job.thread = null;
      this.release(thread);
      job.settle(false, e);
    }
  }

  private onReply(thread: Thread, reply: WorkerReply): void {
    const job = thread.job;
    thread.job = null;
    if (job !== null) {
      job.thread = null;
      if (reply.ok) job.settle(true, reply.value);
      else job.settle(false, new OffloadError("SKEIN_ERR_OFFLOAD", reply.error));
    }
    this.release(thread);
  }

  /** A thread is free: give it the next live job, or park it. */
  private release(thread: Thread): void {
    if (thread.gone) return;
    const job = this.nextLive();
    if (job !== undefined) return this.dispatch(thread, job);
    thread.worker.unref();
    this.idle.push(thread);
    if (this.idle.length === this.threads.size) this.armIdleTimer();
  }

  /**
   * After a thread went away (cancelled, crashed): starts queued work on a
   * new thread if there is room, else lets the threads left stop after
   * `idleMs` if none of them has work.
   */
  private next(): void {
    if (this.threads.size < this.size) {
      const job = this.nextLive();
      if (job !== undefined) return this.dispatch(this.spawn(), job);
    }
    if (this.threads.size > 0 && this.idle.length === this.threads.size && this.idleTimer === undefined) this.armIdleTimer();
  }

  private nextLive(): Job | undefined {
    let job: Job | undefined;
    while ((job = this.queue.shift()) !== undefined) if (!job.done) return job;
    return undefined;
  }

  private forget(thread: Thread): void {
    thread.gone = true;
    this.threads.delete(thread);
    const i = this.idle.indexOf(thread);
    if (i >= 0) this.idle.splice(i, 1);
  }

  private drop(thread: Thread): Promise<number> {
    this.forget(thread);
    thread.job = null;
    return thread.worker.terminate();
  }

  private armIdleTimer(): void {
    this.clearIdleTimer();
    if (!Number.isFinite(this.idleMs)) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      for (const t of [...this.idle]) void this.drop(t);
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }
}

function exitedError(message: string, cause?: Error): OffloadError {
  return new OffloadError("SKEIN_ERR_WORKER_EXITED", { name: cause?.name ?? "Error", message, stack: cause?.stack });
}

let shared: WorkerPool | null = null;

/** The pool {@link offload} uses (created on first use, `availableParallelism()` threads). */
export function offloadPool(): WorkerPool {
  return (shared ??= new WorkerPool());
}

/**
 * Runs `fn(...args)` on a worker thread and returns its result (awaited if
 * it is a Promise), so CPU-heavy or blocking work does not stall the other
 * tasks. `fn` must be self-contained: it is sent as source text, sees only
 * its arguments (structured-cloned) and `require`. If the function throws,
 * an {@link OffloadError} with the original message and stack is thrown here.
 * Cancelling the waiting task abandons the result; if the job is already
 * running, its thread is terminated and replaced.
 *
 * @example
 * const n = yield* offload((limit: number) => {
 *   let count = 0;
 *   for (let i = 2; i < limit; i++) { let p = true; for (let d = 2; d * d <= i; d++) if (i % d === 0) { p = false; break; } if (p) count++; }
 *   return count;
 * }, 1_000_000);
 */
export function offload<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Instruction<Awaited<R>> {
  return offloadPool().run(fn, ...args);
}
