/**
 * Multi-core serving with `node:cluster`: the primary forks workers (each
 * re-runs the program, reaches `serve`, and listens on the shared port) and
 * restarts any that die; cancelling the primary asks every worker for a
 * graceful shutdown and waits for it.
 *
 * @module
 */
import cluster, { type Worker } from "node:cluster";
import { moveOnAfter, shield } from "@skein/core";
import { HttpError } from "./errors.js";
import { Signal } from "./signal.js";

/** The message a primary sends a worker to shut down gracefully. */
export interface ShutdownMessage {
  skein: "shutdown";
  graceMs: number;
}

function isShutdown(message: unknown): message is ShutdownMessage {
  return typeof message === "object" && message !== null && (message as ShutdownMessage).skein === "shutdown";
}

/** Workers that die before they listen, this many times in a row, end the primary (a port in use, a crash at start-up). */
export const MAX_STARTUP_FAILURES = 3;
/** Restarts of workers that die young are spaced out, doubling from this… */
const RESTART_DELAY_MIN_MS = 100;
/** …up to this. */
const RESTART_DELAY_MAX_MS = 5_000;
/** A worker that lived this long resets the delay. */
const HEALTHY_AFTER_MS = 10_000;

/**
 * Runs `count` workers until cancelled, restarting any that exit; on
 * cancellation sends each a {@link ShutdownMessage} and waits up to
 * `graceMs` (plus a second) before killing the stragglers. Restarts of
 * workers that die young back off (100 ms doubling to 5 s); when workers
 * die before listening {@link MAX_STARTUP_FAILURES} times in a row, the
 * others are stopped and `HTTP_ERR_WORKERS_FAILED` is thrown, rather than
 * forking forever.
 *
 * @example
 * if (cluster.isPrimary) yield* runPrimary(4, 5000);
 */
export function* runPrimary(count: number, graceMs: number, log?: (message: string, error?: unknown) => void): Generator<unknown, void, any> {
  const report = log ?? ((m: string) => console.error(m));
  const workers = new Set<Worker>();
  const changed = new Signal("workers");
  let stopping = false;
  let startupFailures = 0;
  let restartDelay = 0;
  let failure: HttpError | null = null;
  const restarts = new Set<NodeJS.Timeout>();
  const fork = (): void => {
    const worker = cluster.fork();
    const startedAt = Date.now();
    let listening = false;
    workers.add(worker);
    worker.once("listening", () => {
      listening = true;
      startupFailures = 0;
    });
    worker.on("exit", (code, signal) => {
      workers.delete(worker);
      if (!stopping && failure === null) restart(worker, code, signal, listening, startedAt);
      // Last: the primary's task runs at once when woken, and must see `failure`.
      changed.wake();
    });
  };
  const restart = (worker: Worker, code: number | null, signal: string | null, listened: boolean, startedAt: number): void => {
    const how = signal ?? code;
    if (!listened && ++startupFailures >= MAX_STARTUP_FAILURES) {
      failure = new HttpError("HTTP_ERR_WORKERS_FAILED", `${startupFailures} workers in a row exited (${how}) before listening; giving up`);
      return;
    }
    restartDelay = Date.now() - startedAt >= HEALTHY_AFTER_MS ? 0 : Math.min(RESTART_DELAY_MAX_MS, Math.max(RESTART_DELAY_MIN_MS, restartDelay * 2));
    report(`skein http: worker ${worker.process.pid} exited (${how}); starting another${restartDelay > 0 ? ` in ${restartDelay} ms` : ""}`);
    if (restartDelay === 0) return fork();
    const timer = setTimeout(() => {
      restarts.delete(timer);
      if (!stopping && failure === null) fork();
    }, restartDelay);
    restarts.add(timer);
  };
  for (let i = 0; i < count; i++) fork();
  try {
    while (failure === null) yield* changed.wait();
    throw failure;
  } finally {
    stopping = true;
    for (const timer of restarts) clearTimeout(timer);
    const message: ShutdownMessage = { skein: "shutdown", graceMs };
    for (const w of workers) if (w.isConnected()) w.send(message);
    // Shielded: cancelled by main() on SIGTERM, the primary's own cleanup is
    // bounded by the kernel's grace period (5 s by default), which would cut
    // the workers' graceMs short (they exit once the primary is gone).
    yield* shield(moveOnAfter(graceMs + 1000, allExited(workers, changed)));
    for (const w of workers) w.process.kill("SIGKILL");
  }
}

function* allExited(workers: Set<Worker>, changed: Signal): Generator<unknown, void, any> {
  while (workers.size > 0) yield* changed.wait();
}

/**
 * In a worker: closes `server` gracefully when the primary asks (or goes
 * away). Returns the function that stops watching (and lets the worker exit).
 */
export function watchPrimary(server: { close(options?: { graceMs?: number }): void }): () => void {
  let asked = false;
  const onMessage = (message: unknown): void => {
    if (!isShutdown(message)) return;
    asked = true;
    server.close({ graceMs: message.graceMs });
  };
  const onDisconnect = (): void => server.close();
  process.on("message", onMessage);
  process.on("disconnect", onDisconnect);
  return () => {
    process.off("message", onMessage);
    process.off("disconnect", onDisconnect);
    // The IPC channel keeps the event loop alive; let go so the worker exits.
    if (asked && process.connected) process.disconnect?.();
  };
}
