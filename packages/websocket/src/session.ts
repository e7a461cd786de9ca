/**
 * A server-side WebSocket session: runs the handler, then closes the socket
 * — 1000 when the handler returns, 1011 when it throws (logged), 1001 when
 * it is cancelled (server shutdown) — and reports the end to its endpoint.
 *
 * It is written as an iterator rather than a generator function because it
 * lives as long as the connection: a generator's frame and register file
 * cost about 240 bytes more per idle WebSocket. It steps the handler's
 * iterator itself, passing on what the handler yields and what the kernel
 * answers (as `yield*` does), then yields the close for the kernel to run;
 * so it behaves as
 *
 * ```ts
 * try { yield* handler(ws, req) } catch (e) { … } finally { yield* ws.close(code, reason); ended(ws) }
 * ```
 *
 * @module
 */
import { currentTaskSync, isCancelled, isPeerGone } from "@skein/core";
import type { Request } from "@skein/http";
import { CloseCode } from "./constants.js";
import { WebSocketError } from "./errors.js";
import type { WebSocketHandler } from "./server.js";
import type { WebSocket } from "./socket.js";

const START = 0;
const HANDLING = 1;
const CLOSING = 2;
const DONE = 3;

/** Marks "nothing to rethrow" (a handler may throw undefined). */
const NOTHING = Symbol("nothing");

/** What a session tells its endpoint. */
export interface SessionOwner {
  /** Where handler failures are reported; undefined: the kernel's log. */
  readonly log: ((message: string, error?: unknown) => void) | undefined;
  /** The session is over: its socket is closed (or given up on). */
  ended(ws: WebSocket): void;
}

/** One WebSocket's handler and closing, as the operation of its task. */
export class Session implements Iterator<unknown, void, unknown> {
  #state = START;
  // Until the handler starts (then dropped: the handler's frame holds what it needs).
  #handler: WebSocketHandler | null;
  #req: Request | undefined;
  /** The handler's iterator, while it runs. */
  #it: Iterator<unknown, unknown, unknown> | null = null;
  /** The cancellation to rethrow once closed. */
  #rethrow: unknown = NOTHING;

  /** `req` undefined: the handler does not take it (see `WebSocketHandler`). */
  constructor(
    private readonly ws: WebSocket,
    handler: WebSocketHandler,
    req: Request | undefined,
    private readonly owner: SessionOwner,
  ) {
    this.#handler = handler;
    this.#req = req;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(value?: unknown): IteratorResult<unknown, void> {
    switch (this.#state) {
      case START: {
        this.#state = HANDLING;
        const handler = this.#handler!;
        const req = this.#req;
        this.#handler = null;
        this.#req = undefined;
        try {
          this.#it = handler(this.ws, req!)[Symbol.iterator]();
        } catch (e) {
          return this.#failed(e);
        }
        return this.#step(undefined, false);
      }
      case HANDLING:
        return this.#step(value, false);
      case CLOSING:
        return this.#end(value);
      default:
        return { done: true, value: undefined };
    }
  }

  throw(error: unknown): IteratorResult<unknown, void> {
    switch (this.#state) {
      case HANDLING:
        return this.#step(error, true);
      case CLOSING:
        // The close itself failed or was cut short: the session is over all the same.
        this.#state = DONE;
        this.owner.ended(this.ws);
        throw error;
      default:
        // Cancelled before the handler started: close as if it had been.
        this.#handler = null;
        this.#req = undefined;
        return this.#failed(error);
    }
  }

  /** Resumes the handler with a value or an error; on to the close once it ends. */
  #step(input: unknown, isError: boolean): IteratorResult<unknown, void> {
    const it = this.#it!;
    let r: IteratorResult<unknown, unknown>;
    try {
      if (!isError) r = it.next(input);
      else if (it.throw !== undefined) r = it.throw(input);
      else {
        it.return?.();
        throw input;
      }
    } catch (e) {
      this.#it = null;
      return this.#failed(e);
    }
    if (r.done !== true) return r as IteratorResult<unknown, void>;
    this.#it = null;
    return this.#close(CloseCode.NORMAL, "");
  }

  #failed(e: unknown): IteratorResult<unknown, void> {
    const ws = this.ws;
    if (isCancelled(e)) {
      // Cancelled because a task the handler started failed: the server's
      // fault (1011), not a shutdown (1001). It is logged with the task.
      const failedChildren = currentTaskSync().childErrors;
      if (failedChildren !== null && !ws.closeFrameSent) {
        this.#rethrow = e;
        if (!ws.isOpen && failedChildren.every(isPeerGone)) return this.#close(CloseCode.NORMAL, "");
        ws.error ??= new WebSocketError("WS_ERR_HANDLER", "a task the handler started failed", { cause: failedChildren[0] });
        return this.#close(CloseCode.INTERNAL_ERROR, "internal error");
      }
      const reason = "server shutting down";
      ws.error ??= new WebSocketError("WS_ERR_SHUTTING_DOWN", reason);
      this.#rethrow = e;
      // Cancelled after our close frame went out (a graceful shutdown's
      // 1001, then its grace ran out): the peer has had its time to answer.
      if (ws.closeFrameSent) ws.terminate();
      return this.#close(CloseCode.GOING_AWAY, reason);
    }
    // A send that failed because this peer left is the end of the story, not
    // a bug (a backend's reset while the peer is still here is one).
    if (isPeerGone(e) && !ws.isOpen) return this.#close(CloseCode.NORMAL, "");
    (this.owner.log ?? ws.kernel.log)(`skein: websocket handler for ${ws.remote} failed:`, e);
    ws.error ??= new WebSocketError("WS_ERR_HANDLER", "the handler failed", { cause: e });
    return this.#close(CloseCode.INTERNAL_ERROR, "internal error");
  }

  #close(code: number, reason: string): IteratorResult<unknown, void> {
    this.#state = CLOSING;
    return { done: false, value: this.ws.close(code, reason) };
  }

  #end(_closed: unknown): IteratorResult<unknown, void> {
    this.#state = DONE;
    this.owner.ended(this.ws);
    const rethrow = this.#rethrow;
    if (rethrow !== NOTHING) {
      this.#rethrow = NOTHING;
      throw rethrow;
    }
    return { done: true, value: undefined };
  }
}
