/**
 * `signal(name)`: wait for the next delivery of a POSIX signal, and the one
 * process listener per signal that `signal` and `main` share.
 *
 * One keypress can arrive as several deliveries: Ctrl-C under `pnpm start`
 * or `npm run` reaches the whole process group *and* is forwarded by the
 * package manager, so the program gets SIGINT twice within a millisecond.
 * Read as two signals, the second would turn a graceful shutdown into a
 * forced one. So `main` ignores a delivery that follows another of the same
 * signal (taken by a task or by `main`) by less than {@link SIGNAL_ECHO_MS}.
 * Tasks waiting in `signal` get every delivery: a reload loop must not lose
 * a real signal, and seeing an echo costs it at most one extra turn.
 */
import { constants } from "node:os";
import { action } from "../ops/action.js";
import type { Instruction } from "../operation.js";

/**
 * Throws a RangeError for a name that is not a signal of this platform, or
 * one no process can catch (SIGKILL, SIGSTOP): waiting for those would wait
 * for ever, and Node refuses to listen for them.
 */
export function checkSignal(name: string): void {
  if (typeof name !== "string" || !Object.hasOwn(constants.signals, name)) throw new RangeError(`unknown signal ${JSON.stringify(name)}`);
  if (name === "SIGKILL" || name === "SIGSTOP") throw new RangeError(`${name} cannot be caught`);
}

/**
 * Within this many ms of the previous delivery of the same signal, `main`
 * takes a delivery for that one's echo (sent to a process group and
 * forwarded by a parent) and ignores it. A person pressing Ctrl-C twice is
 * slower than this.
 */
export const SIGNAL_ECHO_MS = 100;

type Handler = (name: NodeJS.Signals) => void;
/** `main`'s handler: `claimed` when a task waiting in `signal` took the delivery too. */
type Fallback = (name: NodeJS.Signals, claimed: boolean) => void;

/** Who hears one signal: the tasks waiting in `signal`, and the running `main`s. */
class SignalRoute {
  readonly waiters = new Set<Handler>();
  readonly fallbacks = new Set<Fallback>();
  #last = -Infinity;
  #attached = false;

  constructor(readonly name: NodeJS.Signals) {}

  readonly #onSignal = (): void => {
    const now = performance.now();
    const echo = now - this.#last < SIGNAL_ECHO_MS;
    this.#last = now;
    const waiters = [...this.waiters];
    this.waiters.clear();
    if (!echo) for (const f of [...this.fallbacks]) f(this.name, waiters.length > 0);
    this.update();
    for (const w of waiters) w(this.name);
  };

  /** Listens on the process exactly while someone wants the signal (a listener suppresses its default action). */
  update(): void {
    const wanted = this.waiters.size > 0 || this.fallbacks.size > 0;
    if (wanted === this.#attached) return;
    if (wanted) process.on(this.name, this.#onSignal);
    else process.off(this.name, this.#onSignal);
    this.#attached = wanted;
  }
}

const routes = new Map<NodeJS.Signals, SignalRoute>();

function route(name: NodeJS.Signals): SignalRoute {
  let r = routes.get(name);
  if (r === undefined) routes.set(name, (r = new SignalRoute(name)));
  return r;
}

/**
 * @internal A `main`'s handler for `name`: called for every delivery but
 * echoes (see {@link SIGNAL_ECHO_MS}), told whether a task took it. Returns
 * its remover.
 */
export function onMainSignal(name: NodeJS.Signals, handler: Fallback): () => void {
  const r = route(name); // `main` has checked every name first (checkSignal)
  r.fallbacks.add(handler);
  r.update();
  return () => {
    if (r.fallbacks.delete(handler)) r.update();
  };
}

/**
 * Suspends until the process next receives signal `name`, and returns its
 * name. While a task waits here the signal's default action (usually:
 * terminate) is suppressed and the process stays alive; cancelling the
 * wait removes the listener. Every task waiting for the signal receives the
 * same delivery, echoes included (only `main` ignores those).
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
  checkSignal(name);
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
