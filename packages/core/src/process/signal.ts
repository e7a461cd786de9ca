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
 *
 * `signal` listens only while a task waits in it; a loop that is busy
 * between two waits would leave the signal's default action (terminate) in
 * place meanwhile. `signals` opens a receiver that holds deliveries for as
 * long as it is open, which is what a reload loop wants.
 */
import { constants } from "node:os";
import { ClosedError } from "../errors.js";
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

/** Who hears one signal: the tasks waiting in `signal`, the open receivers, and the running `main`s. */
class SignalRoute {
  readonly waiters = new Set<Handler>();
  readonly receivers = new Set<Handler>();
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
    const claimed = waiters.length > 0 || this.receivers.size > 0;
    if (!echo) for (const f of [...this.fallbacks]) f(this.name, claimed);
    this.update();
    for (const w of waiters) w(this.name);
    for (const r of [...this.receivers]) r(this.name);
  };

  /** Listens on the process exactly while someone wants the signal (a listener suppresses its default action). */
  update(): void {
    const wanted = this.waiters.size > 0 || this.receivers.size > 0 || this.fallbacks.size > 0;
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
 * A loop that does work between waits should use {@link signals}: while
 * it works, nobody waits here, and the signal would terminate the process.
 *
 * @example
 * const hup = yield* signal("SIGHUP"); // the next SIGHUP, once
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

/**
 * Deliveries of the signals `names` from now until {@link SignalReceiver.close}:
 * while it is open their default actions are suppressed, and a delivery
 * that comes while no task waits in `next()` is kept for the next call
 * (several of one signal meanwhile count as one, as POSIX signals do). The
 * receiver for a reload loop (trio's `open_signal_receiver`). Under
 * {@link main}, an open receiver for SIGINT or SIGTERM takes that signal
 * instead of it cancelling the root task.
 *
 * @example
 * const hup = signals("SIGHUP");
 * try {
 *   for (;;) {
 *     yield* hup.next();
 *     config = yield* loadConfig(); // a SIGHUP meanwhile is not lost, nor fatal
 *   }
 * } finally {
 *   hup.close();
 * }
 */
export function signals(...names: NodeJS.Signals[]): SignalReceiver {
  for (const name of names) checkSignal(name);
  if (names.length === 0) throw new RangeError("signals() needs at least one signal name");
  return new SignalReceiver(names);
}

/** An open receiver of signals (see {@link signals}). */
export class SignalReceiver {
  readonly #names: readonly NodeJS.Signals[];
  readonly #pending: NodeJS.Signals[] = [];
  /** The task waiting in `next()`: called with a delivery, or null when the receiver closes. */
  #waiter: ((name: NodeJS.Signals | null) => void) | null = null;
  #open = true;
  readonly #onSignal: Handler = (name) => {
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter(name);
    } else if (!this.#pending.includes(name)) this.#pending.push(name);
  };

  /** @internal use {@link signals} */
  constructor(names: readonly NodeJS.Signals[]) {
    this.#names = [...new Set(names)];
    for (const name of this.#names) {
      const r = route(name);
      r.receivers.add(this.#onSignal);
      r.update();
    }
  }

  /** Deliveries kept for the next `next()` calls. */
  get pending(): number {
    return this.#pending.length;
  }

  /**
   * The next delivery (kept, or the next to come) and its signal's name.
   * Throws `ClosedError` once the receiver is closed and nothing is kept.
   */
  next(): Instruction<NodeJS.Signals> {
    return action<NodeJS.Signals>(`signals(${this.#names.join(", ")}).next()`, (resolve, reject) => {
      const kept = this.#pending.shift();
      if (kept !== undefined) return resolve(kept);
      if (!this.#open) return reject(new ClosedError(`signals(${this.#names.join(", ")})`));
      if (this.#waiter !== null) return reject(new TypeError("two tasks cannot wait in one signal receiver's next() at once"));
      // As in `signal`: a listener does not keep Node's event loop alive.
      const keepAlive = setInterval(noop, 1 << 30);
      this.#waiter = (name) => {
        clearInterval(keepAlive);
        if (name !== null) resolve(name);
        else reject(new ClosedError(`signals(${this.#names.join(", ")})`));
      };
      return () => {
        clearInterval(keepAlive);
        this.#waiter = null;
      };
    });
  }

  /**
   * Stops receiving: the signals' default actions apply again (unless
   * someone else listens), and a task waiting in `next()` gets `ClosedError`.
   * Idempotent.
   */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.(null);
    for (const name of this.#names) {
      const r = route(name);
      if (r.receivers.delete(this.#onSignal)) r.update();
    }
  }
}

function noop(): void {}
