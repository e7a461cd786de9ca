import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { ConnectError } from "../errors.js";
import { Instruction, type Operation, type Teardown } from "../operation.js";
import { timeout } from "../scope.js";
import type { Task } from "../task.js";
import { Conn, type ConnOptions } from "./conn.js";

/** Where and how to connect. */
export interface ConnectOptions extends ConnOptions {
  port?: number;
  /** Host name or address; names are resolved without blocking the loop. Default "127.0.0.1". */
  host?: string;
  /** Unix socket path (instead of host/port). */
  path?: string;
  /** TLS: `true` for defaults, or `tls.connect` options (servername, ca, rejectUnauthorized…). */
  tls?: boolean | ConnectionOptions;
  /** Give up (TimeoutError) after this many ms. */
  timeoutMs?: number;
  /** Disable Nagle's algorithm. Default true. */
  noDelay?: boolean;
}

class Connect extends Instruction<Conn> {
  constructor(private readonly options: ConnectOptions) {
    super();
  }
  get description(): string {
    const o = this.options;
    return `connect(${o.path ?? `${o.host ?? "127.0.0.1"}:${o.port}`})`;
  }
  enter(task: Task<unknown>): Teardown {
    const o = this.options;
    const host = o.host ?? "127.0.0.1";
    let socket: Socket;
    const ready = o.tls ? "secureConnect" : "connect";
    if (o.tls) {
      const tlsOptions = typeof o.tls === "object" ? o.tls : {};
      socket = o.path !== undefined ? tlsConnect({ ...tlsOptions, path: o.path }) : tlsConnect({ servername: isIp(host) ? undefined : host, ...tlsOptions, host, port: o.port });
    } else {
      socket = o.path !== undefined ? netConnect({ path: o.path, allowHalfOpen: true }) : netConnect({ host, port: o.port ?? 0, allowHalfOpen: true });
    }
    const onError = (err: NodeJS.ErrnoException) => {
      socket.off(ready, onReady);
      task.fail(new ConnectError(`cannot connect to ${this.description.slice(8, -1)}: ${err.code ?? err.message}`, err.code, { cause: err }));
    };
    const onReady = () => {
      socket.off("error", onError);
      if (o.noDelay !== false && o.path === undefined) socket.setNoDelay(true);
      task.resume(new Conn(socket, task.kernel, o));
    };
    socket.once("error", onError);
    socket.once(ready, onReady);
    return () => {
      socket.off("error", onError);
      socket.off(ready, onReady);
      socket.destroy();
    };
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}

/**
 * Opens a connection (TCP, TLS with `tls`, or Unix with `path`).
 *
 * @example
 * const conn = yield* connect({ host: "example.org", port: 443, tls: true, timeoutMs: 5000 });
 */
export function connect(options: ConnectOptions): Operation<Conn> {
  const op = new Connect(options);
  return options.timeoutMs !== undefined ? timeout(options.timeoutMs, op) : op;
}
