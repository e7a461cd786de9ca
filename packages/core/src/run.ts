/**
 * Entry points: `run` drives an operation to completion on a fresh kernel and
 * returns a Promise of its result — the one place where Skein meets
 * async/await.
 */
import { SkeinError } from "./errors.js";
import { Kernel, type KernelOptions } from "./kernel.js";
import type { Operation } from "./operation.js";
import type { JoinLike, Task } from "./task.js";

/** Options for {@link run}. */
export interface RunOptions extends KernelOptions {
  /** Name of the root task. Default "main". */
  name?: string;
}

/** Raised when every task is blocked and nothing (no timer, no I/O) can ever wake one. */
export class DeadlockError extends SkeinError {
  constructor(readonly blocked: string[]) {
    super("SKEIN_ERR_DEADLOCK", `deadlock: every task is blocked and nothing can wake them:\n  ${blocked.join("\n  ")}`);
  }
}

/** Settles the run() promise when the root task finishes. */
class RootWaiter implements JoinLike {
  readonly quiet = false;
  constructor(
    private readonly resolve: (value: unknown) => void,
    private readonly reject: (error: unknown) => void,
  ) {}
  settle(failed: boolean, outcome: unknown): void {
    if (failed) this.reject(outcome);
    else this.resolve(outcome);
  }
}

/**
 * Runs `op` as the root task of a new kernel and resolves with its result
 * (or rejects with its error) once it and all its descendants are done.
 *
 * @example
 * await run(serve({ port: 4915 }, echo));
 * const n = await run(function* () { yield* sleep(10); return 42; });
 */
export function run<T>(op: Operation<T> | (() => Operation<T>), options: RunOptions = {}): Promise<T> {
  return start(op, options).promise;
}

/** Like {@link run}, but also hands back the kernel and root task (for `main`, tests and tools). */
export function start<T>(op: Operation<T> | (() => Operation<T>), options: RunOptions = {}): { kernel: Kernel; root: Task<T>; promise: Promise<T> } {
  const kernel = new Kernel(options);
  let root!: Task<T>;
  const promise = new Promise<T>((resolve, reject) => {
    // Node exits when its loop is empty; if our root is still pending then,
    // nothing can ever wake it: report a deadlock instead of hanging.
    const onBeforeExit = () => {
      if (root.isDone) return;
      process.off("beforeExit", onBeforeExit);
      reject(new DeadlockError(blockedTasks(root)));
    };
    process.on("beforeExit", onBeforeExit);
    const done = (f: (v: any) => void) => (v: unknown) => {
      process.off("beforeExit", onBeforeExit);
      f(v);
    };
    try {
      root = kernel.spawn(op, null, options.name ?? "main", new RootWaiter(done(resolve), done(reject)));
    } catch (e) {
      // Not an operation (the TypeError says what to write): nothing runs,
      // so nothing may be left listening for the process to exit.
      process.off("beforeExit", onBeforeExit);
      throw e;
    }
    kernel.root = root;
  });
  return { kernel, root, promise };
}

/** Most tasks a DeadlockError lists (a server may hold thousands). */
const DEADLOCK_LISTED = 50;

/** `name: blockedOn` of the tasks under `root`, depth-first and indented, at most {@link DEADLOCK_LISTED} (no recursion: trees may be deep). */
function blockedTasks(root: Task<unknown>): string[] {
  const lines: string[] = [];
  let more = 0;
  const stack: [Task<unknown>, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [t, depth] = stack.pop()!;
    if (lines.length < DEADLOCK_LISTED) lines.push(`${"  ".repeat(Math.min(depth, 20))}${t.name}: ${t.blockedOn}`);
    else more++;
    const kids: Task<unknown>[] = [];
    for (let c = t.firstChild; c !== null; c = c.nextSibling) kids.push(c);
    for (const c of kids) stack.push([c, depth + 1]); // the list is newest first: popped in spawn order
  }
  if (more > 0) lines.push(`… and ${more} more`);
  return lines;
}
