/**
 * What `req.takeover()` returns, shared by the Skein server and the
 * `node:http` adapter: the socket, the bytes after the head, shutdown hooks,
 * and `handOff` — the new protocol's life as a task of the server rather
 * than of the request.
 *
 * @module
 */
import type { Socket } from "node:net";
import { Cancelled, isPeerGone, type JoinLike, type Kernel, type Operation, type Task } from "@skein/core";
import type { Request, Takeover } from "./app.js";
import { HttpError } from "./errors.js";
import type { RequestHost } from "./request.js";

/** What a taken-over connection needs from the server it came from. */
export interface TakeoverHost {
  /** Registers a graceful-shutdown hook. */
  onShutdown(hook: ShutdownHook): void;
  /** Unregisters it. */
  offShutdown(hook: ShutdownHook): void;
  /** Runs a handed-off protocol as a task of the server: calls `upgraded.start`. */
  adopt(op: Operation<unknown>, upgraded: Upgraded): void;
  /** A handed-off protocol's task ended. */
  handOffEnded(upgraded: Upgraded): void;
  log(message: string, error?: unknown): void;
}

/** Called when the server starts a graceful shutdown, with its grace period. */
export type ShutdownHook = (graceMs: number) => void;

/**
 * A taken-over connection, as `takeover()` returns it (see
 * {@link Takeover}): short-lived; what lasts is its {@link Upgraded}.
 */
export class TakenOver implements Takeover {
  /** The lasting part: shutdown hooks and the handed-off task. */
  readonly upgraded: Upgraded;
  #handedOff = false;

  constructor(
    readonly socket: Socket,
    readonly head: Buffer,
    host: TakeoverHost,
    req: Request,
  ) {
    this.upgraded = new Upgraded(host, req, socket);
  }

  /** True once {@link handOff} was called. */
  get handedOff(): boolean {
    return this.#handedOff;
  }

  // Arrow properties: callers destructure them from the result of takeover().
  readonly onShutdown = (hook: ShutdownHook): (() => void) => {
    const upgraded = this.upgraded;
    upgraded.addHook(hook);
    return () => upgraded.removeHook(hook);
  };

  readonly handOff = (op: Operation<unknown>): void => {
    if (this.#handedOff) throw new HttpError("HTTP_ERR_RESPONSE_STATE", "handOff() may be called once per takeover");
    this.#handedOff = true;
    this.upgraded.host.adopt(op, this.upgraded);
  };

  /** The handler returned: unless it handed off, its shutdown hooks go. */
  handlerReturned(): void {
    if (!this.#handedOff) this.upgraded.release();
  }
}

/**
 * What outlives the handler of a taken-over connection: its shutdown hooks
 * and, after `handOff`, its task. It is that task's joiner, so no wrapper
 * generator frame is kept per connection; a failure of the task is logged
 * here, never passed on to the server's task.
 */
export class Upgraded implements JoinLike {
  readonly quiet = false;
  /** The handed-off task, while it runs. */
  task: Task<unknown> | null = null;
  // One hook (the usual case) or several: no array per connection.
  #hooks: ShutdownHook | ShutdownHook[] | null = null;
  // For log lines; not the request itself, which the protocol may not need to keep.
  readonly #method: string;
  readonly #target: string;

  constructor(
    readonly host: TakeoverHost,
    req: Request,
    /** The taken-over socket: a failure after it is gone, of a kind that says the peer left, is not logged. */
    private readonly socket: Socket,
  ) {
    this.#method = req.method;
    this.#target = req.target;
  }

  /** Spawns the handed-off `op` under `parent` (null: a root task of `kernel`). */
  start(op: Operation<unknown>, kernel: Kernel, parent: Task<unknown> | null): void {
    this.task = kernel.spawn(op, parent, undefined, this);
  }

  addHook(hook: ShutdownHook): void {
    this.host.onShutdown(hook);
    const hooks = this.#hooks;
    if (hooks === null) this.#hooks = hook;
    else if (Array.isArray(hooks)) hooks.push(hook);
    else this.#hooks = [hooks, hook];
  }

  removeHook(hook: ShutdownHook): void {
    this.host.offShutdown(hook);
    const hooks = this.#hooks;
    if (hooks === hook) this.#hooks = null;
    else if (Array.isArray(hooks)) {
      const i = hooks.indexOf(hook);
      if (i >= 0) hooks.splice(i, 1);
    }
  }

  /** Drops every shutdown hook. */
  release(): void {
    const hooks = this.#hooks;
    this.#hooks = null;
    if (hooks === null) return;
    if (Array.isArray(hooks)) for (const hook of hooks) this.host.offShutdown(hook);
    else this.host.offShutdown(hooks);
  }

  /** @internal the handed-off task ended */
  settle(failed: boolean, outcome: unknown): void {
    this.task = null;
    this.release();
    // A task that failed because the peer left (a send on a closed WebSocket) ended the conversation, no more.
    if (failed && !(outcome instanceof Cancelled) && !(this.socket.destroyed && isPeerGone(outcome))) this.host.log(`skein http: ${this.#method} ${this.#target} failed after takeover`, outcome);
    this.host.handOffEnded(this);
  }
}

/**
 * What a handed-off request answers from once its HTTP connection is gone:
 * the addresses, read from the socket; it has no body to give.
 */
export class SocketHost implements RequestHost {
  constructor(
    private readonly socket: Socket,
    readonly secure: boolean,
    readonly unixSocket: boolean,
  ) {}

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }
  get localPort(): number | undefined {
    return this.socket.localPort;
  }
  waitBody(): Operation<void> {
    throw new HttpError("HTTP_ERR_BODY_UNAVAILABLE", "the request's connection was taken over");
  }
  bodyConsumed(): void {}
  willRead(): void {}
  takeover(): Operation<Takeover> {
    throw new HttpError("HTTP_ERR_RESPONSE_STATE", "takeover() is only possible once, from the handler of the upgrade request");
  }
}
