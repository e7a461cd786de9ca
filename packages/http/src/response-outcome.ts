/**
 * `ResponseBase`: what both `Response` implementations (the Skein server's
 * and the node:http adapter's) share besides the prepared fast paths — the
 * body byte count and the `onFinish` listeners that learn what was sent.
 *
 * Why a hook: middleware sees the handler return, but the server decides
 * some responses after that (a 500 for a handler that returned without
 * responding, a 503 when the handler timeout cancelled it) and may never
 * send one (the client left). An access log that wants the truth has to be
 * told when the exchange is over.
 *
 * @module
 */
import type { ResponseOutcome } from "./app.js";
import { HttpError } from "./errors.js";
import { PreparedFastPaths } from "./prepared.js";
import { noContentRule } from "./status.js";

type FinishListener = (outcome: ResponseOutcome) => void;

/** Bytes a body chunk puts on the wire (a string as UTF-8). */
export function chunkLength(chunk: string | Uint8Array): number {
  return typeof chunk === "string" ? Buffer.byteLength(chunk, "utf8") : chunk.length;
}

/** The error for a body written on a response whose status has none (204, 205, 304). */
export function bodyRefused(status: number): HttpError {
  return new HttpError("HTTP_ERR_RESPONSE_STATE", `a ${status} response has no body (${noContentRule(status)})`);
}

/** Where a listener's exception goes (it never reaches the server). */
export interface FinishLogger {
  log(message: string, error?: unknown): void;
}

/** The shared part of a response: prepared fast paths, body byte count, `onFinish`. */
export abstract class ResponseBase extends PreparedFastPaths {
  /** Body bytes written so far by `write`/`end` (none for HEAD: those are not sent). */
  protected bodyBytes = 0;
  // One listener is the common case (an access log): no array for it.
  #listeners: FinishListener | FinishListener[] | null = null;
  // -1 while the exchange runs, then status * 2 + (complete ? 1 : 0): the
  // hot path only stores a number, the outcome object is built on demand.
  #end = -1;

  /**
   * Calls `listener` once, when the exchange is over: the response went out
   * whole, was cut short, or never went out. Registered after that, it is
   * called at once. See {@link ResponseOutcome}.
   */
  onFinish(listener: FinishListener): void {
    if (typeof listener !== "function") throw new TypeError("onFinish(listener): listener must be a function");
    if (this.#end >= 0) return listener(this.#outcome());
    const l = this.#listeners;
    this.#listeners = l === null ? listener : Array.isArray(l) ? (l.push(listener), l) : [l, listener];
    this.listening();
  }

  /** @internal someone waits for the end of this exchange (then the server finds out whether the bytes went out) */
  get awaitsFinish(): boolean {
    return this.#listeners !== null;
  }

  /** Called when a listener is added before the end (the node adapter subscribes to its response's events then). */
  protected listening(): void {}

  /** Body bytes of the response as sent (a prepared body counts here too). */
  protected sentBodyBytes(): number {
    return this.bodyBytes;
  }

  /**
   * @internal Ends the exchange: `status` is what went out (0: nothing),
   * `complete` whether all of it did. Calls the listeners; later calls do
   * nothing. A listener that throws is logged and the others still run.
   */
  finished(status: number, complete: boolean, logger: FinishLogger): void {
    if (this.#end >= 0) return;
    this.#end = status * 2 + (complete ? 1 : 0);
    const l = this.#listeners;
    if (l === null) return;
    this.#listeners = null;
    const outcome = this.#outcome();
    for (const listener of Array.isArray(l) ? l : [l]) {
      try {
        listener(outcome);
      } catch (e) {
        logger.log("skein http: an onFinish listener threw", e);
      }
    }
  }

  #outcome(): ResponseOutcome {
    const status = this.#end >> 1;
    return { status, bodyBytes: status === 0 ? 0 : this.sentBodyBytes(), complete: (this.#end & 1) === 1 };
  }
}
