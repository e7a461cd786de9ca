/**
 * `HttpServer` and `serve`: listening, the connection limit, per-connection
 * timeouts (one sweeper task instead of a timer per read), and graceful
 * shutdown (`server.close({ graceMs })`: stop accepting, close idle
 * keep-alive connections, let in-flight requests finish with
 * `Connection: close`, run shutdown hooks of taken-over connections, then
 * cancel whatever is left when the grace period ends). Taken-over
 * connections whose handler handed the protocol off (`Takeover.handOff`)
 * run as tasks of the server, counted with the connections.
 *
 * @module
 */
import cluster from "node:cluster";
import {
  currentTaskSync, isCancelled, listen, moveOnAfter, sleep, spawn,
  type ListenAddress, type Listener, type ListenOptions, type Operation, type Task,
} from "@skein/core";
import type { App } from "./app.js";
import { runPrimary, watchPrimary } from "./cluster.js";
import { HttpConnection } from "./connection.js";
import { NO_DEADLINE, type ConnectionContext } from "./connection-input.js";
import { errorResponse } from "./error-responses.js";
import { resolveLimits, type HttpLimits } from "./limits.js";
import { Signal } from "./signal.js";
import type { ShutdownHook, Upgraded } from "./takeover.js";

/** Options of {@link serve} and {@link HttpServer}. */
export interface ServeOptions extends ListenOptions {
  /** Limits and timeouts; see `HttpLimits` for each default and what 0 means. */
  limits?: Partial<HttpLimits>;
  /** Run this many worker processes under `node:cluster` (the primary only supervises). Default 1: no cluster. */
  workers?: number;
  /** Grace period of a shutdown that does not name one (cancellation, a worker told to stop). Default 5000 ms. */
  graceMs?: number;
  /** Called once listening, with the server (its `address`, `close`). */
  onListening?: (server: HttpServer) => void;
  /** Where handler and connection errors are reported. Default: the kernel's log (standard error). */
  log?: (message: string, error?: unknown) => void;
}

/** Options of {@link HttpServer.close}. */
export interface CloseOptions {
  /** How long in-flight requests may take before they are cancelled. Default `ServeOptions.graceMs`. */
  graceMs?: number;
}

/**
 * An HTTP/1.1 server running `app` on a Skein kernel.
 *
 * @example
 * const server = new HttpServer(app, { port: 8080 });
 * yield* spawn(server.run());
 * // later, from any task or callback:
 * server.close({ graceMs: 10_000 });
 */
export class HttpServer implements ConnectionContext {
  /** The application. */
  readonly app: App;
  /** Resolved limits. */
  readonly limits: Readonly<HttpLimits>;
  /** True when serving TLS. */
  readonly secure: boolean;
  /** True when listening on a Unix socket (`path`). */
  readonly unixSocket: boolean;
  /** True once `close()` was called. */
  closing = false;
  readonly #options: ServeOptions;
  readonly #connections = new Set<HttpConnection>();
  /** Closed connections whose tasks still wait for tasks their handlers started: cancelled when the server closes. */
  readonly #lingering = new Set<HttpConnection>();
  /** Handed-off protocols (e.g. WebSockets), each a task of the server. */
  readonly #adopted = new Set<Upgraded>();
  #task: Task<unknown> | null = null;
  readonly #hooks = new Set<ShutdownHook>();
  readonly #empty = new Signal("connections to close");
  readonly #tickMs: number;
  #graceMs: number;
  #listener: Listener | null = null;
  #sweeps = 0;
  #log: (message: string, error?: unknown) => void;

  constructor(app: App, options: ServeOptions = {}) {
    this.app = app;
    this.#options = options;
    this.limits = resolveLimits(options.limits);
    this.secure = options.tls !== undefined;
    this.unixSocket = options.path !== undefined;
    this.#graceMs = options.graceMs ?? 5000;
    this.#log = options.log ?? ((message, error) => console.error(message, error ?? ""));
    // Timeouts are checked by one sweep every quarter of the shortest one
    // (10 ms to 1 s): a deadline is a sweep count stored per connection, so a
    // read costs no timer; a timeout fires between its value and value + 2 sweeps.
    const timeouts = [this.limits.headersTimeoutMs, this.limits.requestTimeoutMs, this.limits.keepAliveTimeoutMs, this.limits.writeStallTimeoutMs].filter((t) => t > 0);
    this.#tickMs = timeouts.length === 0 ? 1000 : Math.min(1000, Math.max(10, Math.floor(Math.min(...timeouts) / 4)));
  }

  /** Where the server listens (after `onListening`). */
  get address(): ListenAddress {
    if (this.#listener === null) throw new TypeError("the server is not listening yet");
    return this.#listener.address;
  }

  /** Open connections (taken-over ones included until their handler, or the task it handed off to, returns). */
  get connectionCount(): number {
    return this.#connections.size + this.#adopted.size;
  }

  /** Requests parsed ahead and waiting for their turn, over all connections. */
  get queuedRequests(): number {
    let n = 0;
    for (const c of this.#connections) n += c.queuedRequests;
    return n;
  }

  /** Queued outbound bytes per connection above which writers wait. */
  get writeHighWaterMark(): number {
    return this.#options.writeHighWaterMark ?? 64 * 1024;
  }

  /**
   * Listens and serves until closed (then shuts down gracefully) or
   * cancelled (then every connection is cancelled at once).
   */
  *run(): Generator<unknown, void, any> {
    const task = (this.#task = currentTaskSync());
    if (this.#options.log === undefined) this.#log = task.kernel.log;
    const listener = yield* listen(this.#listenOptions());
    this.#listener = listener;
    const sweeper = yield* spawn(this.#sweep(), { name: "http timeouts" });
    try {
      this.#options.onListening?.(this);
      yield* this.#acceptLoop(listener);
      if (this.connectionCount > 0) yield* moveOnAfter(this.#graceMs, this.#allClosed());
    } finally {
      listener.close();
      sweeper.cancel();
      for (const c of this.#connections) c.kill();
      for (const c of this.#lingering) c.kill();
      for (const t of this.#adopted) t.task?.cancel();
    }
  }

  /**
   * Starts a graceful shutdown: stop accepting, close idle connections (and
   * those mid-way through a request head), answer in-flight requests with
   * `Connection: close`, call shutdown hooks, and cancel what is left after
   * `graceMs`. `run()` returns when done.
   */
  close(options: CloseOptions = {}): void {
    if (this.closing) return;
    this.closing = true;
    if (options.graceMs !== undefined) this.#graceMs = options.graceMs;
    this.#listener?.close();
    for (const c of this.#connections) c.closeIfIdle(true);
    for (const c of this.#lingering) c.kill();
    for (const hook of this.#hooks) this.#callHook(hook);
    if (this.connectionCount === 0) this.#empty.wake();
  }

  // ---- ConnectionContext ------------------------------------------------------

  /** @internal */
  deadline(ms: number): number {
    // +1: the current sweep interval has partly elapsed already.
    return ms > 0 ? this.#sweeps + Math.ceil(ms / this.#tickMs) + 1 : NO_DEADLINE;
  }

  /** @internal */
  onShutdown(hook: ShutdownHook): void {
    if (this.closing) this.#callHook(hook);
    else this.#hooks.add(hook);
  }

  /** @internal */
  offShutdown(hook: ShutdownHook): void {
    this.#hooks.delete(hook);
  }

  /** @internal */
  log(message: string, error?: unknown): void {
    this.#log(message, error);
  }

  /** @internal the connection's socket is closed; tasks its handlers started may still run */
  released(connection: HttpConnection): void {
    if (!this.#connections.delete(connection)) return;
    this.#lingering.add(connection); // until its task ends (at once, unless its handlers' tasks still run)
    if (this.closing && this.connectionCount === 0) this.#empty.wake();
  }

  /** @internal */
  taskEnded(connection: HttpConnection): void {
    this.#lingering.delete(connection);
  }

  /** @internal runs a handed-off protocol as a child task of the server */
  adopt(op: Operation<unknown>, upgraded: Upgraded): void {
    const server = this.#task;
    if (server === null) throw new TypeError("the server is not running");
    this.#adopted.add(upgraded);
    upgraded.start(op, server.kernel, server);
  }

  /** @internal */
  handOffEnded(upgraded: Upgraded): void {
    this.#adopted.delete(upgraded);
    if (this.closing && this.connectionCount === 0) this.#empty.wake();
  }

  // ---- internals ---------------------------------------------------------------

  /**
   * TLS: a handshake counts as part of the head (headersTimeoutMs bounds it
   * too), and at most maxConnections may be in progress besides the
   * connections served.
   */
  #listenOptions(): ServeOptions {
    const o = this.#options;
    if (o.tls === undefined) return o;
    const headersMs = this.limits.headersTimeoutMs;
    const tls = o.tls.handshakeTimeout === undefined && headersMs > 0 ? { handshakeTimeout: headersMs, ...o.tls } : o.tls;
    return { maxHandshakes: this.limits.maxConnections, ...o, tls };
  }

  *#acceptLoop(listener: Listener): Generator<unknown, void, any> {
    const max = this.limits.maxConnections;
    for (;;) {
      let conn;
      try {
        conn = yield* listener.accept();
      } catch (e) {
        if (this.closing && !isCancelled(e)) return;
        throw e;
      }
      if (this.closing || (max > 0 && this.connectionCount >= max)) {
        // Over the limit: a prebuilt 503 and close; the others keep being served.
        conn.send(errorResponse(503));
        conn.close();
        continue;
      }
      const connection = new HttpConnection(conn, this);
      this.#connections.add(connection);
      // No task name: a per-connection string is memory every idle connection pays for.
      // The connection is its task's joiner: a failure of a task its handlers
      // started is logged there and ends that connection, never the server.
      const server = currentTaskSync();
      server.kernel.spawnEager(connection.run(), server, undefined, connection);
    }
  }

  *#allClosed(): Generator<unknown, void, any> {
    while (this.connectionCount > 0) yield* this.#empty.wait();
  }

  *#sweep(): Generator<unknown, void, any> {
    for (;;) {
      yield* sleep(this.#tickMs);
      const now = ++this.#sweeps;
      for (const c of this.#connections) c.sweep(now);
    }
  }

  #callHook(hook: ShutdownHook): void {
    try {
      hook(this.#graceMs);
    } catch (e) {
      this.#log("skein http: shutdown hook failed", e);
    }
  }
}

/**
 * Serves `app` over HTTP/1.1 until cancelled: the one-line server. With
 * `workers: n` the calling process becomes a `node:cluster` primary that runs
 * n worker processes (each re-runs the program and serves).
 *
 * @example
 * await run(serve({ port: 8080 }, function* (req, res) {
 *   return res.text(200, "Hello, World!");
 * }));
 */
export function* serve(options: ServeOptions, app: App): Generator<unknown, void, any> {
  const workers = options.workers;
  if (workers !== undefined && !(Number.isSafeInteger(workers) && workers >= 1)) {
    throw new RangeError(`serve: workers must be a whole number of at least 1, got ${String(workers)}`);
  }
  if ((workers ?? 1) > 1 && cluster.isPrimary) {
    yield* runPrimary(options.workers!, options.graceMs ?? 5000, options.log);
    return;
  }
  const server = new HttpServer(app, options);
  const stopWatching = cluster.isWorker ? watchPrimary(server) : null;
  try {
    yield* server.run();
  } finally {
    stopWatching?.();
  }
}
