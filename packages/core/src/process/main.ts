/**
 * `main(op)`: the entry point of a Skein program. Runs the root task and
 * turns SIGINT/SIGTERM into its cancellation, so every `finally` block runs
 * before the process exits with a code that says how it went.
 */
import { constants } from "node:os";
import { Cancelled } from "../errors.js";
import { formatTasks, taskTree } from "../insight/tasks.js";
import type { Operation } from "../operation.js";
import { start, type RunOptions } from "../run.js";
import type { Task } from "../task.js";
import { checkSignal, onMainSignal } from "./signal.js";

/** Options for {@link main}. */
export interface MainOptions extends RunOptions {
  /** Signals that cancel the root task. Default `["SIGINT", "SIGTERM"]`. */
  signals?: NodeJS.Signals[];
  /**
   * Call `process.exit(code)` once the root task is done (so a leaked handle
   * cannot keep the process alive). Default true; with false, `main` only
   * resolves with the code.
   */
  exit?: boolean;
  /** Where the root task's error (and a forced exit) is reported. Default: standard error. */
  report?: (message: string, error?: unknown) => void;
}

/**
 * Runs `op` as the root task of a new kernel, as a program.
 *
 * - The first SIGINT or SIGTERM cancels the root task: `Cancelled` is thrown
 *   at its yield point, `finally` blocks run (they may yield, within the
 *   kernel's `graceMs`), and the exit code is 0.
 * - A second signal while that cleanup runs exits at once, with code
 *   128 + the signal's number, after printing the tasks still running.
 * - If the root task fails, its error is printed and the exit code is 1;
 *   if it returns or is cancelled (by a signal, the remote console…), 0.
 * - A task waiting in `signal("SIGTERM")` takes that signal instead.
 * - A delivery less than `SIGNAL_ECHO_MS` (100 ms) after the previous one
 *   of the same signal (taken by a task or by `main`) is ignored: one Ctrl-C
 *   under `pnpm start` or `npm run` arrives twice (sent to the process
 *   group, and forwarded by the package manager), and the copy must not
 *   read as a second signal that cuts the shutdown short.
 *
 * The signal handlers are removed once the root task is done. Resolves with
 * the exit code (when `exit: false`; otherwise the process exits with it).
 *
 * @example
 * await main(function* () {
 *   const db = yield* openDb();
 *   try {
 *     yield* serve({ port: 8080 }, handler);
 *   } finally {
 *     yield* db.close(); // runs on Ctrl-C
 *   }
 * });
 */
export async function main<T>(op: Operation<T> | (() => Operation<T>), options: MainOptions = {}): Promise<number> {
  const signals = options.signals ?? ["SIGINT", "SIGTERM"];
  const report = options.report ?? ((message: string, error?: unknown) => (error === undefined ? console.error(message) : console.error(message, error)));
  let root: Task<T> | null = null;
  let received: NodeJS.Signals | null = null;

  // Not called for echoes: the copy of one Ctrl-C forwarded by a package
  // manager is not a second signal.
  const onSignal = (sig: NodeJS.Signals, claimed: boolean): void => {
    if (received === null) {
      if (claimed) return; // a task asked for this signal: it is theirs
      received = sig;
      root?.cancel();
      return;
    }
    const code = 128 + (constants.signals[sig] ?? 0);
    const left = root !== null && !root.isDone ? `; tasks still running:\n${formatTasks(taskTree(root))}` : "";
    report(`skein: ${sig} received while shutting down after ${received}, exiting now (code ${code})${left}`);
    removeHandlers();
    process.exit(code);
  };
  // Every name is checked before any handler is attached: a bad one must not leave the others behind.
  for (const s of signals) checkSignal(s);
  const removers = signals.map((s) => onMainSignal(s, onSignal));
  const removeHandlers = (): void => {
    for (const remove of removers) remove();
  };

  let code: number;
  try {
    const started = start(op, { ...options, name: options.name ?? "main" });
    root = started.root;
    await started.promise;
    code = 0;
  } catch (error) {
    // Cancelled by a signal, the remote console or the program itself: a clean stop.
    if (error instanceof Cancelled) code = 0;
    else {
      report("skein: main task failed:", error);
      code = 1;
    }
  } finally {
    removeHandlers();
  }
  if (options.exit ?? true) process.exit(code);
  return code;
}
