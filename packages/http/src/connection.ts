/**
 * One HTTP/1.1 connection: the responding side and the connection's task
 * (the input side — parsing, queueing, look-ahead, read deadlines — is
 * `ConnectionInput` in connection-input.ts).
 *
 * The connection's task reads, parses and answers inline: a read that
 * brings 16 pipelined requests is parsed at once and, when the handlers
 * answer without suspending (prepared responses), all 16 are answered before
 * the task reads again — no task switch, and one corked write (`Output`).
 *
 * When a handler does suspend (reads a streamed body, waits on I/O, writes
 * under backpressure), a **reader** task is started for as long as requests
 * are in flight: it keeps reading — so it sees a disconnect and cancels the
 * handler, delivers body bytes, and parses ahead (pipelining) up to
 * `maxPipelinedRequests` waiting requests and `maxLookaheadBytes` buffered
 * bytes. Once the connection is idle again the reader is stopped and the
 * parser goes back to a pool: an idle keep-alive connection is one task
 * waiting in `recv`.
 *
 * Input errors (400/413/431/505…) and read timeouts (408) are queued like
 * requests, so they are answered after the responses before them.
 *
 * @module
 */
import { cancel, ConnectionError, currentTaskSync, isCancelled, isPeerGone, moveOnAfter, type Conn, type JoinLike, type Operation } from "@skein/core";
import { RESPONSE_STATE, type Takeover } from "./app.js";
import {
  ConnectionInput, NO_DEADLINE, READ_BODY, READ_HEAD, READ_IDLE, READ_NONE, type ConnectionContext,
} from "./connection-input.js";
import { CONTINUE_BYTES } from "./constants.js";
import { boxed, drive, handlerOperation, NOT_STARTED, SCRUB } from "./drive.js";
import { errorResponse } from "./error-responses.js";
import { HttpError, isClientError } from "./errors.js";
import { HEAD_HAS_TRANSFER_ENCODING, type MessageHead } from "./llhttp/head.js";
import { Output } from "./output.js";
import { Prepared } from "./prepared.js";
import { ServerRequest, type RequestHost } from "./request.js";
import type { ConnectionMode } from "./response-head.js";
import { ServerResponse, type ResponseHost } from "./response.js";
import { Signal } from "./signal.js";
import { SocketHost, TakenOver } from "./takeover.js";


const EMPTY = Buffer.alloc(0);

// What the connection task does next (HttpConnection.#plan).
const STEP_CLOSE = 0;
const STEP_RESPOND = 1;
const STEP_WAIT = 2;
const STEP_STOP_READER = 3;
const STEP_READ = 4;
const STEP_READ_IDLE = 5;

// Results of HttpConnection.#respond.
const CLOSE = 0;
const KEEP = 1;
const SUSPENDED = 2;

/** A handler that suspended after its first step. */
class Suspended {
  constructor(
    readonly req: ServerRequest,
    readonly res: ServerResponse,
    readonly it: Iterator<unknown, unknown, unknown>,
    readonly first: unknown,
  ) {}
}

/** Marks "the handler did not fail" (a handler may throw undefined). */
const NO_FAILURE = Symbol("no failure");

/** An HTTP connection on a Skein server (created by `HttpServer`). */
export class HttpConnection extends ConnectionInput implements RequestHost, ResponseHost, JoinLike {
  #out: Output | null = null;
  #item: ServerRequest | null = null;
  #suspended: Suspended | null = null;
  /** Requests handed to the app on this connection (for maxRequestsPerConnection). */
  #served = 0;
  /** Exchanges whose end waits for their bytes to be written (see #ended). */
  #finishing = 0;

  /** Where response bytes go (created for a busy period, dropped when idle). */
  get out(): Output {
    return (this.#out ??= new Output(this.conn, this.task!.kernel));
  }

  constructor(conn: Conn, ctx: ConnectionContext) {
    super(conn, ctx);
  }

  /** @internal */
  protected createRequest(head: MessageHead, expectContinue: boolean): ServerRequest {
    return new ServerRequest(head, this, expectContinue);
  }

  // ---- RequestHost: connection facts ----------------------------------
  get remoteAddress(): string | undefined {
    return this.conn.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.conn.remotePort;
  }
  get localAddress(): string | undefined {
    return this.conn.localAddress;
  }
  get localPort(): number | undefined {
    return this.conn.localPort;
  }
  get secure(): boolean {
    return this.ctx.secure;
  }
  get unixSocket(): boolean {
    return this.ctx.unixSocket;
  }

  /**
   * Closes the connection at once unless a request is in flight (keep-alive
   * timeout; graceful shutdown, which passes `midHead`: one whose next head
   * is still arriving is closed too, with no response, as Node's http and
   * uvicorn do — no handler has seen that request, so a client may send it
   * again elsewhere — and so is one only draining an answered body).
   */
  closeIfIdle(midHead = false): boolean {
    if (!(midHead ? this.noRequest || this.#draining : this.idle) || this.takenOver) return false;
    this.task?.cancel();
    return true;
  }

  /** All that is left is the rest of an answered request's body, read only to be dropped. */
  get #draining(): boolean {
    return this.current === null && this.waiting === 0 && this.pendingInput === null && this.parsing !== null && this.parsing.bodyClosed;
  }

  /** Abandons the connection (shutdown grace period over). */
  kill(): void {
    this.task?.cancel();
  }

  /**
   * Runs the connection until it closes. Deliberately tiny: an idle
   * keep-alive connection is this one generator frame suspended in `recv`,
   * and the size of its register file is memory every idle connection pays;
   * the decisions live in the synchronous {@link #plan}.
   */
  *run(): Generator<unknown, void, any> {
    this.task = currentTaskSync();
    try {
      for (;;) {
        switch (this.#plan()) {
          case STEP_RESPOND: {
            // Synchronous unless the handler suspends: no generator per request.
            let keep = this.#respond(this.#item!);
            if (keep === SUSPENDED) keep = yield* this.#respondAsync();
            if (keep === CLOSE) return;
            if (this.writeBlocked) {
              // Nobody reads while the client downloads: the next request's clock waits too.
              const held = this.holdReadClock();
              yield* this.backpressure();
              this.restartReadClock(held);
            }
            break;
          }
          case STEP_WAIT:
            yield* this.next!.wait();
            break;
          case STEP_STOP_READER:
            yield* cancel(this.reader!);
            this.reader = null;
            break;
          case STEP_READ_IDLE:
            // Frames suspended in `yield*` keep the value they were last
            // resumed with, here the previous chunk: resume once with
            // nothing so an idle connection does not pin its last buffer.
            yield* SCRUB;
            this.#received(yield* this.conn.recv());
            break;
          case STEP_READ:
            this.#received(yield* this.conn.recv());
            break;
          default:
            return;
        }
      }
    } catch (e) {
      if (isCancelled(e)) throw e;
      if (e instanceof ConnectionError) this.onEnd(e);
      else this.ctx.log(`skein http: connection ${this.conn.remote} failed`, e);
      if (!this.takenOver) this.conn.abort();
    } finally {
      this.reader?.cancel();
      this.#finish();
    }
  }

  /** Decides the connection task's next step (see {@link run}). */
  #plan(): number {
    for (;;) {
      const item = this.shift();
      if (item !== null) {
        if (!(item instanceof HttpError)) {
          this.#item = item;
          return STEP_RESPOND;
        }
        if (item.status > 0) this.out.bytes(errorResponse(item.status));
        return STEP_CLOSE;
      }
      this.#item = null;
      if (this.readerDone || this.takenOver || (this.ctx.closing && this.idle)) return STEP_CLOSE;
      if (this.reader !== null) {
        if (!this.idle) {
          this.next ??= new Signal("next request");
          return STEP_WAIT;
        }
        // Idle again: stop the reader (it may still hand over a last chunk), then read here.
        return STEP_STOP_READER;
      }
      const pending = this.pendingInput;
      if (pending === null) {
        if (!this.idle) return STEP_READ;
        this.#goIdle();
        return STEP_READ_IDLE;
      }
      this.pendingInput = null;
      this.lookaheadBytes -= pending.length;
      this.feed(pending);
    }
  }

  /** A read by the connection's own task. */
  #received(chunk: Buffer): void {
    if (chunk.length === 0) this.onEnd(null);
    else this.feed(chunk);
  }

  /** Between requests: arm the keep-alive timeout. */
  #goIdle(): void {
    // Armed once per idle period: bytes that start no request (CRLF) do not restart it.
    if (this.readKind !== READ_HEAD && this.readKind !== READ_IDLE) this.setRead(READ_IDLE, this.ctx.deadline(this.ctx.limits.keepAliveTimeoutMs));
  }

  /**
   * Gives back what an idle connection does not need (its parser goes to
   * the pool). Done by the sweeper, not at every idle moment: a pipelining
   * client is idle between every batch and would pay for it each time.
   */
  #trim(): void {
    this.trimInput();
    // The kernel still flushes a dropped Output it has queued; the next
    // response gets a fresh one whose bytes are queued after it.
    this.#out = null;
  }

  #finish(): void {
    if (!this.takenOver) {
      this.#out?.flush();
      this.#out?.close();
      this.conn.close();
    }
    this.trimInput();
    if (this.parser !== null) {
      this.parser.destroy(); // mid-message: not reusable
      this.parser = null;
    }
    this.taken?.handlerReturned();
    this.readDeadline = this.writeDeadline = NO_DEADLINE;
    this.ctx.released(this);
  }

  // ---- JoinLike: the connection task's end ------------------------------------

  /**
   * @internal The connection's task ended, after every task its handlers
   * started (a task is a nursery; the socket may have closed long before).
   * A failure here is one of those tasks: it ended this connection, is
   * logged, and goes no further (the server keeps serving).
   */
  settle(failed: boolean, outcome: unknown): void {
    // Quiet only when it failed because this client left, not a backend
    // (the socket is always closed by now: its own failure is what tells).
    if (failed && !isCancelled(outcome) && !this.#clientLeft(outcome)) this.ctx.log(`skein http: a task started by a handler on ${this.conn.remote} failed; connection closed`, outcome);
    this.ctx.taskEnded(this);
  }

  /**
   * True when `e` says this client left: its connection failed (and `e`
   * is of a kind that says so) or a write found it gone. A backend's reset
   * while the client is still here is not.
   */
  #clientLeft(e: unknown): boolean {
    return (e instanceof HttpError && e.peerGone) || (this.conn.failure !== null && isPeerGone(e));
  }

  /** @internal (JoinLike) this joiner handles the task's failure. */
  get quiet(): boolean {
    return false;
  }

  // ---- responding ------------------------------------------------------------

  /**
   * Runs the app for `req` up to its first suspension. Returns KEEP or
   * CLOSE when the handler finished synchronously (the common case), or
   * SUSPENDED, leaving the rest to {@link #respondAsync}.
   */
  #respond(req: ServerRequest): number {
    this.current = req;
    this.#served++;
    this.continueDone = this.continueSent = false;
    this.wakeRoom();
    const res = new ServerResponse(this, req);
    let result: unknown;
    let failure: unknown = NO_FAILURE;
    try {
      const op = this.ctx.app(req, res);
      if (op instanceof Prepared) result = op;
      else {
        const it = handlerOperation(op)[Symbol.iterator]();
        // With a handler deadline, the handler's first step must run inside its scope.
        if (this.ctx.limits.handlerTimeoutMs > 0) {
          this.#suspended = new Suspended(req, res, it, NOT_STARTED);
          return SUSPENDED;
        }
        const first = it.next();
        if (first.done === true) result = first.value;
        else {
          // first.value is read now: the result object may be shared and reused.
          this.#suspended = new Suspended(req, res, it, first.value);
          return SUSPENDED;
        }
      }
    } catch (e) {
      if (isCancelled(e)) throw this.#abandoned(res, e);
      failure = e;
    }
    return this.#complete(req, res, result, failure) ? KEEP : CLOSE;
  }

  /** The rest of a handler that suspended. */
  *#respondAsync(): Generator<unknown, number, any> {
    const { req, res, it, first } = this.#suspended!;
    this.#suspended = null;
    // From now on someone must watch the socket (disconnects, body bytes).
    this.#startReader();
    let result: unknown;
    let failure: unknown = NO_FAILURE;
    try {
      const limit = this.ctx.limits.handlerTimeoutMs;
      if (limit > 0) {
        const box = yield* moveOnAfter(limit, boxed(drive(it, first)));
        if (box === undefined) throw new HttpError("HTTP_ERR_HANDLER_TIMEOUT", `handler ran longer than ${limit} ms`);
        result = box.value;
      } else result = yield* drive(it, first);
    } catch (e) {
      if (isCancelled(e)) throw this.#abandoned(res, e);
      failure = e;
    }
    return this.#complete(req, res, result, failure) ? KEEP : CLOSE;
  }

  /**
   * The handler was cancelled (the client left, the server is shutting
   * down): the exchange ends, whole if the handler had ended its response
   * (or taken the connection over) before.
   */
  #abandoned(res: ServerResponse, cancelled: unknown): unknown {
    if (this.takenOver) this.#finishNow(res, 101, true);
    else if (res.state === RESPONSE_STATE.ENDED) this.#ended(res, res.status, true);
    else this.#finishNow(res, res.headersSent ? res.status : 0, false);
    return cancelled;
  }

  /**
   * Ends the exchange of `res`. `written`: the server wrote the whole
   * response. Then, when someone listens (`res.onFinish`), it is complete
   * once the socket has handed all of it to the operating system, not
   * before: a client that leaves half-way through a large body cuts it short.
   */
  #ended(res: ServerResponse, status: number, written: boolean): void {
    if (!written || this.conn.isClosed || !res.awaitsFinish) return this.#finishNow(res, status, written && !this.conn.isClosed);
    this.#finishAfterWritten(res, status, null);
  }

  /**
   * Ends the exchange with an outcome known now: at once, unless an earlier
   * exchange's end still waits for its bytes, behind which it queues
   * (onFinish listeners run in request order).
   */
  #finishNow(res: ServerResponse, status: number, complete: boolean): void {
    if (this.#finishing === 0 || !res.awaitsFinish) return res.finished(status, complete, this.ctx);
    this.#finishAfterWritten(res, status, complete);
  }

  /** Ends the exchange once what was sent before has reached the socket; `complete` null: whether it did. */
  #finishAfterWritten(res: ServerResponse, status: number, complete: boolean | null): void {
    this.#finishing++;
    this.conn.whenWritten((ok) => {
      this.#finishing--;
      res.finished(status, complete ?? ok, this.ctx);
    });
  }

  /** Finishes the response after the handler; false when the connection must close. */
  #complete(req: ServerRequest, res: ServerResponse, result: unknown, failure: unknown): boolean {
    if (failure === NO_FAILURE && !this.takenOver) {
      try {
        if (result instanceof Prepared) res.sendPrepared(result);
        else if (res.state === RESPONSE_STATE.IDLE) throw new HttpError("HTTP_ERR_HANDLER", "handler returned without responding");
        else if (res.state !== RESPONSE_STATE.ENDED) res.end();
      } catch (e) {
        failure = e;
      }
    }
    const errorStatus = failure === NO_FAILURE ? 0 : this.#handlerFailed(req, res, failure);
    if (this.takenOver) this.#finishNow(res, 101, true);
    else if (errorStatus > 0) this.#ended(res, errorStatus, true);
    else this.#ended(res, res.headersSent ? res.status : 0, failure === NO_FAILURE);
    this.current = null;
    // Handed off: the request outlives this connection; let it go of it.
    if (this.taken?.handedOff === true) req.detachHost(new SocketHost(this.taken.socket, this.ctx.secure, this.ctx.unixSocket));
    const dropped = req.closeBody();
    if (dropped > 0) this.bodyConsumed(dropped);
    // The rest of its body follows: read and dropped if small enough, else close.
    if (!req.bodyComplete && !this.drainable(req)) this.closeAfter = true;
    this.wakeRoom();
    return !(this.closeAfter || this.takenOver);
  }

  /** Answers a failed handler if it can; returns the status of the error response written, or 0. */
  #handlerFailed(req: ServerRequest, res: ServerResponse, e: unknown): number {
    this.closeAfter = true;
    if (this.takenOver) {
      this.ctx.log(`skein http: ${req.method} ${req.target} failed after takeover`, e);
      return 0;
    }
    // Gone means this client's connection closed or failed, not any
    // connection error: a backend that reset or refused the handler is the
    // handler's failure, a logged 500.
    const gone = this.conn.isClosed || this.#clientLeft(e);
    if (gone) return 0;
    // A client error (a malformed or oversized body, a cut-short upload: any
    // 4xx) is answered on the wire and not logged, like a bad head: logging
    // it would let any client fill the log with stack traces.
    if (!isClientError(e)) this.ctx.log(`skein http: ${req.method} ${req.target} from ${this.conn.remote} failed`, e);
    if (res.headersSent) {
      // Too late for a status. Earlier responses and what this one wrote
      // still go out, then the connection closes (closeAfter): the client
      // sees this response end before its Content-Length or last chunk. A
      // body delimited by the close has no such mark: a reset says it.
      if (res.endsAtClose) {
        this.out.flush();
        this.conn.flush();
        this.conn.abort();
      }
      return 0;
    }
    const status = e instanceof HttpError && e.status > 0 ? e.status : 500;
    this.out.bytes(errorResponse(status));
    res.state = RESPONSE_STATE.ENDED;
    return status;
  }

  /** Starts the reader task (a handler suspended: someone must watch the socket). */
  #startReader(): void {
    if (this.reader !== null || this.readerDone || this.takenOver) return;
    this.reader = this.task!.kernel.spawn(this.readLoop(), this.task);
  }

  // ---- ResponseHost ----------------------------------------------------------

  /** @internal */
  connectionMode(req: ServerRequest, wantsClose: boolean): ConnectionMode {
    // Called as the final response's head is written: no 100 after it (RFC 9110 §15.2).
    if (req === this.current) {
      this.continueDone = true;
      this.timeBody(req);
    }
    const max = this.ctx.limits.maxRequestsPerConnection;
    const head = req.head;
    if (
      wantsClose || !head.keepAlive || this.ctx.closing || head.upgrade || (!req.bodyComplete && !this.drainable(req)) || (max > 0 && this.#served >= max) ||
      // An HTTP/1.0 message with Transfer-Encoding has faulty framing: answer, then close (RFC 9112 §6.1).
      (head.versionMinor === 0 && (head.flags & HEAD_HAS_TRANSFER_ENCODING) !== 0)
    ) {
      this.closeAfter = true;
      return "close";
    }
    return head.versionMinor === 0 ? "keep-alive" : "keep";
  }

  /** @internal */
  get writeBlocked(): boolean {
    return (this.#out === null ? 0 : this.#out.pendingBytes) + this.conn.pendingBytes > this.ctx.writeHighWaterMark;
  }

  /**
   * @internal waits for the client to read (all of what was written when
   * `all`); the server's sweeper aborts a stalled one
   */
  *backpressure(all = false): Generator<unknown, void, any> {
    this.out.flush();
    // A stall is no progress for writeStallTimeoutMs: the sweeper moves the
    // deadline on whenever the client has read some (a long download at a
    // steady pace is not a stall).
    this.extra().stallPending = this.conn.unsentMeasure;
    this.writeDeadline = this.ctx.deadline(this.ctx.limits.writeStallTimeoutMs);
    try {
      yield* (all ? this.conn.drained() : this.conn.sendAll(EMPTY));
    } finally {
      this.writeDeadline = NO_DEADLINE;
    }
  }

  // ---- RequestHost: body -----------------------------------------------------

  /** @internal */
  waitBody(req: ServerRequest): Operation<void> {
    if (req !== this.current) throw new HttpError("HTTP_ERR_BODY_UNAVAILABLE", "only the request being handled can read its body");
    this.#startReader();
    return (this.body ??= new Signal("request body")).wait();
  }

  /** @internal */
  bodyConsumed(n: number): void {
    this.lookaheadBytes -= n;
    this.wakeRoom();
  }

  /** @internal answers `Expect: 100-continue` when the handler first waits for the body */
  willRead(req: ServerRequest): void {
    if (!req.expectContinue || this.continueDone || req !== this.current || this.takenOver) return;
    this.continueDone = this.continueSent = true;
    this.out.bytes(CONTINUE_BYTES);
    this.timeBody(req);
  }

  /** @internal */
  *takeover(req: ServerRequest): Generator<unknown, Takeover, any> {
    // An upgrade request with a body (odd, but allowed): the new protocol
    // starts after it, so wait for it and drop it, whether it came in the
    // same read as the head or later.
    if (req === this.current && !this.takenOver && req.head.upgrade && !req.bodyComplete) {
      while ((yield* req.read()).length > 0);
    }
    if (req !== this.current || this.takenOver || !this.readerDone) {
      throw new HttpError("HTTP_ERR_RESPONSE_STATE", "takeover() is only possible once, from the handler of the upgrade request");
    }
    this.takenOver = true;
    this.closeAfter = true;
    this.setRead(READ_NONE, NO_DEADLINE);
    this.#out?.flush();
    this.#out?.close();
    this.#out = null;
    this.reader?.cancel();
    const { socket, head } = this.conn.detach();
    const early = this.upgradeHead;
    this.upgradeHead = EMPTY;
    // The parser stopped after this head: it goes back to the pool now, not
    // when the (perhaps hours-long) new protocol ends.
    this.trimInput();
    const full = early.length === 0 ? head : head.length === 0 ? early : Buffer.concat([early, head]);
    return (this.taken = new TakenOver(socket, full, this.ctx, req));
  }

  // ---- deadlines ---------------------------------------------------------------

  /** Called by the server's sweeper every sweep, with the sweep count. */
  sweep(now: number): void {
    if (this.readKind === READ_IDLE) this.#trim();
    if (this.writeDeadline !== NO_DEADLINE) this.#writeProgress();
    if (now >= this.readDeadline || now >= this.writeDeadline) this.#expire(now);
  }

  /** The client read some of what waits to be written since the last look: not stalled, the deadline moves on. */
  #writeProgress(): void {
    const rare = this.extra();
    const pending = this.conn.unsentMeasure;
    if (pending < rare.stallPending) this.writeDeadline = this.ctx.deadline(this.ctx.limits.writeStallTimeoutMs);
    rare.stallPending = pending;
  }

  #expire(now: number): void {
    if (now >= this.writeDeadline) {
      this.writeDeadline = NO_DEADLINE;
      this.closeAfter = true;
      this.#out?.close();
      this.conn.abort(); // wakes the stalled writer with an error
    }
    if (now < this.readDeadline) return;
    const kind = this.readKind;
    this.setRead(READ_NONE, NO_DEADLINE);
    if (kind === READ_IDLE) {
      this.closeIfIdle();
      return;
    }
    if (kind !== READ_HEAD && kind !== READ_BODY) return;
    if (kind === READ_HEAD && this.idle) {
      // Connected (or kept alive) but never sent a byte of a request: just close.
      this.closeIfIdle();
      return;
    }
    const error = kind === READ_HEAD
      ? new HttpError("HTTP_ERR_HEADERS_TIMEOUT", `request head not received within ${this.ctx.limits.headersTimeoutMs} ms`)
      : new HttpError("HTTP_ERR_REQUEST_TIMEOUT", `request not received within ${this.ctx.limits.requestTimeoutMs} ms`);
    this.inputFailed(error);
    if (this.reader !== null) this.reader.cancel();
    else if (this.current === null) this.#interruptRead();
  }

  /**
   * The connection's own task is blocked reading a request that timed out:
   * the error is queued; cancel the read by restarting the task's wait.
   */
  #interruptRead(): void {
    // The rest of an answered request's body (drained after its response)
    // did not come in time: nothing to answer, close.
    if (this.#draining) {
      this.task?.cancel();
      return;
    }
    // Requests queued before the error are answered first, in order, by the
    // task (it is not reading then): nothing to interrupt.
    if (this.waiting !== 1) return;
    // The task is suspended in conn.recv(); cancelling it would end the
    // connection before the 408 is written, so write it here and close.
    const item = this.shift();
    if (item instanceof HttpError && item.status > 0) this.out.bytes(errorResponse(item.status));
    this.task?.cancel();
  }
}
