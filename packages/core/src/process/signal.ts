/**
 * `signal(name)`: wait for the next delivery of a POSIX signal.
 */
import { action } from "../ops/action.js";
import type { Instruction } from "../operation.js";

/** How many tasks wait in `signal(name)` right now, per signal (read by `main`). */
const waiting = new Map<NodeJS.Signals, number>();

/** @internal True while some task waits for `name` with {@link signal}. */
export function hasSignalWaiters(name: NodeJS.Signals): boolean {
  return (waiting.get(name) ?? 0) > 0;
}

/**
 * Suspends until the process next receives signal `name`, and returns its
 * name. While a task waits here the signal's default action (usually:
 * terminate) is suppressed and the process stays alive; cancelling the
 * wait removes the listener.
 * Under {@link main}, a task waiting for SIGINT or SIGTERM takes that signal
 * instead of it cancelling the root task.
 *
 * @example
 * for (;;) {
 *   yield* signal("SIGHUP");
 *   config = yield* loadConfig();
 * }
 */
export function signal(name: NodeJS.Signals): Instruction<NodeJS.Signals> {
  return action<NodeJS.Signals>(`signal(${name})`, (resolve) => {
    const onSignal = (received: NodeJS.Signals) => {
      remove();
      resolve(received);
    };
    // A signal listener does not keep Node's event loop alive; a waiting
    // task should (or the process would exit, or run() report a deadlock).
    const keepAlive = setInterval(noop, 1 << 30);
    let listening = true;
    const remove = () => {
      if (!listening) return;
      listening = false;
      clearInterval(keepAlive);
      process.off(name, onSignal);
      const n = (waiting.get(name) ?? 1) - 1;
      if (n === 0) waiting.delete(name);
      else waiting.set(name, n);
    };
    process.on(name, onSignal);
    waiting.set(name, (waiting.get(name) ?? 0) + 1);
    return remove;
  });
}

function noop(): void {}
