/**
 * `signal(name)`: wait for the next delivery of a POSIX signal, and the one
 * process listener per signal that `signal` and `main` share.
 *
 * One keypress can arrive as several deliveries: Ctrl-C under `pnpm start`
 * or `npm run` reaches the whole process group *and* is forwarded by the
 * package manager, so the program gets SIGINT twice within a millisecond.
 * Read as two signals, the second would turn a graceful shutdown into a
 * forced one. Deliveries of the same signal closer together than
 * {@link SIGNAL_ECHO_MS} are therefore one event.
 */
import { action } from "../ops/action.js";
import type { Instruction } from "../operation.js";

/**
 * Deliveries of one signal this close together (ms) are one event: the echo
 * of a signal sent to a process group and forwarded by a parent. A person
 * pressing Ctrl-C twice is slower than this.
 */
export const SIGNAL_ECHO_MS = 100;

type Handler = (name: NodeJS.Signals) => void;

/** Who hears one signal: the tasks waiting in `signal`, else `main`'s fallback. */
class SignalRoute {
  readonly waiters = new Set<Handler>();
  fallback: Handler | null = null;
  #last = -Infinity;
  #attached = false;

  constructor(readonly name: NodeJS.Signals) {}

  readonly #onSignal = (): void => {
    const now = performance.now();
    if (now - this.#last < SIGNAL_ECHO_MS) return; // the same event again
    this.#last = now;
    if (this.waiters.size === 0) {
      this.fallback?.(this.name);
      return;
    }
    const waiters = [...this.waiters];
    this.waiters.clear();
    this.update();
    for (const w of waiters) w(this.name);
  };

  /** Listens on the process exactly while someone wants the signal (a listener suppresses its default action). */
  update(): void {
    const wanted = this.waiters.size > 0 || this.fallback !== null;
    if (wanted === this.#attached) return;
    this.#attached = wanted;
    if (wanted) process.on(this.name, this.#onSignal);
    else process.off(this.name, this.#onSignal);
  }
}

const routes = new Map<NodeJS.Signals, SignalRoute>();

function route(name: NodeJS.Signals): SignalRoute {
  let r = routes.get(name);
  if (r === undefined) routes.set(name, (r = new SignalRoute(name)));
  return r;
}

/**
 * @internal `main`'s handler for `name`: called for a delivery that no task
 * waits for (echoes dropped). Returns its remover.
 */
export function onUnclaimedSignal(name: NodeJS.Signals, handler: Handler): () => void {
  const r = route(name);
  r.fallback = handler;
  r.update();
  return () => {
    if (r.fallback !== handler) return;
    r.fallback = null;
    r.update();
  };
}

/**
 * Suspends until the process next receives signal `name`, and returns its
 * name. While a task waits here the signal's default action (usually:
 * terminate) is suppressed and the process stays alive; cancelling the
 * wait removes the listener. Every task waiting for the signal receives the
 * same delivery; deliveries closer together than {@link SIGNAL_ECHO_MS}
 * count once.
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
    const r = route(name);
    // A signal listener does not keep Node's event loop alive; a waiting
    // task should (or the process would exit, or run() report a deadlock).
    const keepAlive = setInterval(noop, 1 << 30);
    const onSignal: Handler = (received) => {
      clearInterval(keepAlive);
      resolve(received);
    };
    r.waiters.add(onSignal);
    r.update();
    return () => {
      clearInterval(keepAlive);
      if (r.waiters.delete(onSignal)) r.update();
    };
  });
}

function noop(): void {}
