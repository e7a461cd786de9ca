/**
 * Multi-core serving with `node:cluster`: the primary forks workers (each
 * re-runs the program, reaches `serve`, and listens on the shared port) and
 * restarts any that die; cancelling the primary asks every worker for a
 * graceful shutdown and waits for it.
 *
 * @module
 */
import cluster, { type Worker } from "node:cluster";
import { moveOnAfter } from "@skein/core";
import { Signal } from "./signal.js";

/** The message a primary sends a worker to shut down gracefully. */
export interface ShutdownMessage {
  skein: "shutdown";
  graceMs: number;
}

function isShutdown(message: unknown): message is ShutdownMessage {
  return typeof message === "object" && message !== null && (message as ShutdownMessage).skein === "shutdown";
}

/**
 * Runs `count` workers until cancelled, restarting any that exit; on
 * cancellation sends each a {@link ShutdownMessage} and waits up to
 * `graceMs` (plus a second) before killing the stragglers.
 *
 * @example
 * if (cluster.isPrimary) yield* runPrimary(4, 5000);
 */
export function* runPrimary(count: number, graceMs: number, log?: (message: string, error?: unknown) => void): Generator<unknown, void, any> {
  const report = log ?? ((m: string) => console.error(m));
  const workers = new Set<Worker>();
  const changed = new Signal("workers");
  let stopping = false;
  const fork = (): void => {
    const worker = cluster.fork();
    workers.add(worker);
    worker.on("exit", (code, signal) => {
      workers.delete(worker);
      if (!stopping) {
        report(`skein http: worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
        fork();
      }
      changed.wake();
    });
  };
  for (let i = 0; i < count; i++) fork();
  try {
    for (;;) yield* changed.wait();
  } finally {
    stopping = true;
    const message: ShutdownMessage = { skein: "shutdown", graceMs };
    for (const w of workers) if (w.isConnected()) w.send(message);
    yield* moveOnAfter(graceMs + 1000, allExited(workers, changed));
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
