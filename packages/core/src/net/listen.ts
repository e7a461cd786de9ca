import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TlsOptions } from "node:tls";
import { ConnectionError, SkeinError } from "../errors.js";
import type { Kernel } from "../kernel.js";
import { Instruction, type Teardown } from "../operation.js";
import { Ring } from "../ring.js";
import type { Task } from "../task.js";
import { Conn, type ConnOptions } from "./conn.js";

/** Where and how to listen. */
export interface ListenOptions extends ConnOptions {
  /** TCP port; 0 picks a free one. */
  port?: number;
  /** Interface to bind. Default "127.0.0.1". */
  host?: string;
  /** Unix socket path (instead of host/port). */
  path?: string;
  /**
   * TLS: key, cert and any other `tls.createServer` options. A connection
   * must finish its handshake within `handshakeTimeout` (ms; default here
   * 10 s, not Node's 120 s: until then it is not accepted, so nothing else
   * bounds a peer that connects and says nothing).
   */
  tls?: TlsOptions;
  /**
   * TLS: how many connections may be in their handshake at once; more are
   * closed as they arrive. Default 16,384; 0 sets no bound. Handshaking
   * connections are not accepted yet, so a server's own connection limit
   * does not see them (Node's `maxConnections` counts them with the rest).
   */
  maxHandshakes?: number;
  /**
   * Unix socket: the file's permission bits, in force from the moment it is
   * created (e.g. `0o600`: only this user may connect). Default: what the
   * process umask leaves. A chmod after listening would leave a moment in
   * which others could connect; that is the fallback only in a worker
   * thread, which may not set the umask.
   */
  mode?: number;
  /** Kernel listen backlog. Default 511. */
  backlog?: number;
  /** Disable Nagle's algorithm on accepted sockets. Default true. */
  noDelay?: boolean;
  /** Let several processes bind the same port (node:cluster does this for you). */
  exclusive?: boolean;
}

/** Where a listener ended up. */
export interface ListenAddress {
  host: string;
  port: number;
  /** Set for Unix sockets. */
  path?: string;
  /** `http://host:port`-style label, or the socket path. */
  toString(): string;
}

class Accept extends Instruction<Conn> {
  task: Task<unknown> | null = null;
  constructor(private readonly listener: Listener) {
    super();
  }
  get description(): string {
    return `accept(${this.listener.address})`;
  }
  enter(task: Task<unknown>): Teardown | void {
    return this.listener.enterAccept(this, task);
  }
  cancel(this: Accept): void {
    this.task = null;
    this.listener.acceptor = null;
  }
}

/** A listening socket; `accept()` yields connections. */
export class Listener {
  readonly server: Server;
  readonly address: ListenAddress;
  /** @internal */ acceptor: Accept | null = null;
  private readonly backlog = new Ring<Socket>(16);
  private readonly kernel: Kernel;
  private readonly options: ListenOptions;
  private closed = false;
  /** TLS: raw sockets whose handshake is in progress (see `maxHandshakes`). */
  private readonly inHandshake = new Set<Socket>();

  /** @internal */
  constructor(server: Server, kernel: Kernel, options: ListenOptions) {
    this.server = server;
    this.kernel = kernel;
    this.options = options;
    const a = server.address();
    if (typeof a === "string" || a === null) {
      const path = a ?? options.path ?? "";
      this.address = { host: "", port: 0, path, toString: () => path };
    } else {
      const info = a as AddressInfo;
      const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
      this.address = { host: info.address, port: info.port, toString: () => `${host}:${info.port}` };
    }
    server.on(options.tls ? "secureConnection" : "connection", this.onConnection);
    if (options.tls) {
      server.on("connection", this.onHandshakeStart);
      server.on("tlsClientError", this.onHandshakeFailed);
    }
    server.on("error", (err) => kernel.log(`skein: listener ${this.address} error`, err));
  }

  /** TLS: connections in their handshake now. */
  get handshaking(): number {
    return this.inHandshake.size;
  }

  /** Connections accepted by the OS and not yet taken by `accept()`. */
  get pending(): number {
    return this.backlog.length;
  }

  /** Waits for the next connection. */
  accept(): Instruction<Conn> {
    return new Accept(this);
  }

  /** Stops listening. Accepted connections stay open. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    let s;
    while ((s = this.backlog.shift()) !== undefined) s.destroy();
    // A handshake finishing after the close would find no one to accept it.
    for (const raw of this.inHandshake) raw.destroy();
    this.inHandshake.clear();
    const a = this.acceptor;
    if (a !== null) {
      this.acceptor = null;
      const task = a.task!;
      a.task = null;
      task.fail(new ConnectionError("SKEIN_ERR_LISTENER_CLOSED", "listener closed"));
    }
  }

  /** @internal */
  enterAccept(op: Accept, task: Task<unknown>): Teardown | void {
    if (this.acceptor !== null) throw new TypeError("two tasks cannot accept() on one listener at once");
    const socket = this.backlog.shift();
    if (socket !== undefined) return task.resume(this.wrap(socket));
    if (this.closed) return task.fail(new ConnectionError("SKEIN_ERR_LISTENER_CLOSED", "listener closed"));
    op.task = task;
    this.acceptor = op;
    return op.cancel;
  }

  private wrap(socket: Socket): Conn {
    if (this.options.noDelay !== false) socket.setNoDelay(true);
    socket.off("error", noop);
    const conn = new Conn(socket, this.kernel, this.options);
    // A plain socket waits in the backlog unread (pauseOnConnect), so what
    // the peer sent and a reset after it reach the Conn in order. A TLS one
    // has been reading for its handshake: if it died waiting, say so now, or
    // a recv would wait for events that have already been emitted.
    if (socket.isPaused()) socket.resume();
    if (socket.destroyed) conn.socketGone(socket.errored);
    return conn;
  }

  /** TLS: a TCP connection arrived; its handshake counts until it ends. */
  private readonly onHandshakeStart = (raw: Socket): void => {
    const max = this.options.maxHandshakes ?? MAX_HANDSHAKES;
    if (this.closed || (max > 0 && this.inHandshake.size >= max)) {
      raw.destroy();
      return;
    }
    this.inHandshake.add(raw);
    // A raw socket closed under its handshake may not say so through the TLS one.
    raw.once("close", () => this.inHandshake.delete(raw));
  };

  /**
   * Ends failed TLS handshakes: Node reports them (`tlsClientError`: a
   * silent peer past `handshakeTimeout`, garbage, plain HTTP) but leaves the
   * TCP connection open. Until its handshake is done a connection is not
   * accepted, so nothing else would close it.
   */
  private readonly onHandshakeFailed = (_err: Error, socket: Socket): void => {
    this.handshakeEnded(socket);
    socket.destroy();
  };

  /** `secure` (a TLS socket) is done with its handshake, one way or the other. */
  private handshakeEnded(secure: Socket): void {
    // The TLS socket wraps the raw one the handshake was counted on.
    const raw = (secure as Socket & { _parent?: Socket })._parent;
    if (raw !== undefined) this.inHandshake.delete(raw);
  }

  private readonly onConnection = (socket: Socket): void => {
    // Node may still report a connection after close() (a TLS handshake that finished): nobody would accept it.
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.options.tls) {
      this.handshakeEnded(socket);
      // Half-open only from now: a peer that hangs up in its handshake is
      // closed at once, not held until the handshake timeout.
      socket.allowHalfOpen = true;
    }
    // Node keeps the peer address once it has been read: read it now, so
    // `remoteAddress`, `remotePort` and the `remote` of log lines still name
    // the peer after it has reset the connection (uvicorn reads it here too).
    void socket.remoteAddress;
    // Until a Conn owns it, a socket error must not crash the process.
    const a = this.acceptor;
    if (a !== null) {
      this.acceptor = null;
      const task = a.task!;
      a.task = null;
      task.resume(this.wrap(socket));
      return;
    }
    socket.on("error", noop);
    this.backlog.push(socket);
  };
}

function noop(): void {}

/** Default `ListenOptions.maxHandshakes`. */
const MAX_HANDSHAKES = 16_384;

/** Node waits 120 s for a TLS handshake; a server should not (see `ListenOptions.tls`). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * Names the socket file at `path` (null when it is none): device, inode and
 * change time in ns, since a new file may get the inode just freed.
 */
function socketFileId(path: string): string | null {
  try {
    const st = lstatSync(path, { bigint: true });
    return st.isSocket() ? `${st.dev}:${st.ino}:${st.ctimeNs}` : null;
  } catch {
    return null;
  }
}

/**
 * `server.listen` on a Unix socket path whose file is created with `mode`:
 * Node binds synchronously inside `listen()`, so a umask held around the
 * call applies to the new file and to nothing else. (Where `listen()`
 * cannot bind itself — a cluster worker asks its primary — the umask is
 * moot; callers that need the mode there chmod afterwards.)
 */
function listenOnPath(server: Server, path: string, backlog: number, mode: number | undefined): void {
  if (mode === undefined) return void server.listen({ path, backlog });
  let previous: number | undefined;
  try {
    previous = process.umask(~mode & 0o777);
  } catch {
    // A worker thread may not change the umask: chmod as soon as it listens (a moment late, but applied).
    server.prependOnceListener("listening", () => {
      try {
        chmodSync(path, mode);
      } catch {
        // the file is gone already: nothing to protect
      }
    });
  }
  try {
    server.listen({ path, backlog });
  } finally {
    if (previous !== undefined) process.umask(previous);
  }
}

class Listen extends Instruction<Listener> {
  constructor(private readonly options: ListenOptions) {
    super();
  }
  get description(): string {
    const o = this.options;
    return `listen(${o.path ?? `${o.host ?? "127.0.0.1"}:${o.port ?? 0}`})`;
  }
  enter(task: Task<unknown>): Teardown {
    const o = this.options;
    const server = o.tls ? createTlsServer({ handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS, ...o.tls, allowHalfOpen: false } as TlsOptions) : createServer({ allowHalfOpen: true, pauseOnConnect: true });
    let retried = false;
    let abandoned = false;
    const onError = (err: NodeJS.ErrnoException) => {
      // A Unix socket file left by a process that died (SIGKILL, a crash):
      // nobody listens on it any more, so it is removed and the listen tried
      // again. A live socket, or a file that is not a socket, is left alone.
      const stale = err.code === "EADDRINUSE" && o.path !== undefined && !retried ? socketFileId(o.path) : null;
      if (stale !== null) {
        retried = true;
        const probe = netConnect({ path: o.path! });
        probe.once("connect", () => {
          probe.destroy();
          fail(err);
        });
        probe.once("error", (e: NodeJS.ErrnoException) => {
          if (abandoned) return; // cancelled meanwhile: nobody would own a listener now
          if (e.code !== "ECONNREFUSED") return fail(err);
          try {
            // Still the file that refused: another server may have replaced it meanwhile.
            if (socketFileId(o.path!) !== stale) return fail(err);
            unlinkSync(o.path!);
          } catch {
            return fail(err);
          }
          server.once("error", onError);
          listenOnPath(server, o.path!, o.backlog ?? 511, o.mode);
        });
        return;
      }
      fail(err);
    };
    const fail = (err: NodeJS.ErrnoException) => {
      if (abandoned) return;
      server.off("listening", onListening);
      task.fail(new SkeinError("SKEIN_ERR_LISTEN", `cannot listen on ${this.description.slice(7, -1)}: ${err.code ?? err.message}`, { cause: err }));
    };
    const onListening = () => {
      server.off("error", onError);
      task.resume(new Listener(server, task.kernel, o));
    };
    server.once("error", onError);
    server.once("listening", onListening);
    if (o.path !== undefined) listenOnPath(server, o.path, o.backlog ?? 511, o.mode);
    else server.listen({ port: o.port ?? 0, host: o.host ?? "127.0.0.1", backlog: o.backlog ?? 511, exclusive: o.exclusive ?? false });
    return () => {
      abandoned = true;
      server.off("error", onError);
      server.off("listening", onListening);
      // Node may still report the listen's failure: with no listener, its
      // 'error' event would end the process.
      server.on("error", noop);
      server.close();
    };
  }
}

/**
 * Opens a listening socket (TCP, TLS with `tls`, or Unix with `path`).
 *
 * @example
 * const listener = yield* listen({ port: 0 });
 * console.log(`listening on ${listener.address}`);
 * const conn = yield* listener.accept();
 */
export function listen(options: ListenOptions = {}): Instruction<Listener> {
  const mode = options.mode;
  if (mode !== undefined && !(Number.isInteger(mode) && mode >= 0 && mode <= 0o777)) {
    throw new RangeError(`listen: mode must be permission bits from 0 to 0o777, got ${String(mode)}`);
  }
  return new Listen(options);
}
