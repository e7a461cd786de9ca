/**
 * One HTTP/1.1 connection.
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
import {
  cancel, ConnectionError, currentTaskSync, Instruction, isCancelled, moveOnAfter,
  type Conn, type Operation, type Task,
} from "@skein/core";
import { RESPONSE_STATE, type App, type Takeover } from "./app.js";
import { CONTINUE_BYTES, EXPECT_CONTINUE } from "./constants.js";
import { errorResponse } from "./error-responses.js";
import { HttpError } from "./errors.js";
import { HEAD_HAS_HOST, HEAD_MULTIPLE_HOST, type MessageHead } from "./llhttp/head.js";
import { PARSER_STATE, type HttpParser, type ParserEvents } from "./llhttp/parser.js";
import { acquireParser, releaseParser } from "./llhttp/pool.js";
import type { HttpLimits } from "./limits.js";
import { Output } from "./output.js";
import { Prepared } from "./prepared.js";
import { ServerRequest, type RequestHost } from "./request.js";
import type { ConnectionMode } from "./response-head.js";
import { ServerResponse, type ResponseHost } from "./response.js";
import { Signal } from "./signal.js";

const EMPTY = Buffer.alloc(0);

/** What a connection needs from its server. */
export interface ConnectionContext {
  readonly app: App;
  readonly limits: Readonly<HttpLimits>;
  readonly secure: boolean;
  /** True once a graceful shutdown began: responses say `Connection: close`. */
  readonly closing: boolean;
  /** A deadline `ms` from now on the server's coarse clock (NO_DEADLINE for 0). */
  deadline(ms: number): number;
  /** Queued outbound bytes above which writers wait. */
  readonly writeHighWaterMark: number;
  /** Registers a shutdown hook for a taken-over connection. */
  onShutdown(hook: (graceMs: number) => void): () => void;
  log(message: string, error?: unknown): void;
  /** The connection finished. */
  released(connection: HttpConnection): void;
}

// What the read deadline currently guards.
const READ_NONE = 0;
const READ_IDLE = 1;
const READ_HEAD = 2;
const READ_BODY = 3;

/** Completes at once with `undefined` (see the idle path of `HttpConnection.run`). */
class Scrub extends Instruction<void> {
  get description(): string {
    return "scrub";
  }
  enter(task: Task<unknown>): void {
    task.resume(undefined);
  }
}
// One shared instance: it completes within the step that yields it.
const SCRUB = new Scrub();

/** `readDeadline`/`writeDeadline` when nothing is timed (the largest small integer). */
export const NO_DEADLINE = 0x3fffffff;

// HttpConnection.#flags
const F_READER_DONE = 1;
const F_CLOSE_AFTER = 2;
const F_TAKEN_OVER = 4;
const F_CONTINUE_SENT = 8;

/** The rarely used part of a connection's state. */
class Rare {
  next: Signal | null = null;
  room: Signal | null = null;
  body: Signal | null = null;
  upgradeHead: Buffer = EMPTY;
  unhooks: (() => void)[] | null = null;
}

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

function* boxed<T>(op: Operation<T>): Generator<unknown, { value: T }, any> {
  return { value: yield* op };
}

/**
 * Continues a handler that has already taken its first step (and yielded
 * `first`), forwarding what it yields to the kernel and the results back.
 */
function* drive(it: Iterator<unknown, unknown, unknown>, first: unknown): Generator<unknown, unknown, any> {
  let yielded = first;
  for (;;) {
    let step: IteratorResult<unknown, unknown>;
    try {
      step = it.next(yield yielded);
    } catch (e) {
      if (it.throw === undefined) throw e;
      step = it.throw(e);
    }
    // Read at once: core's instructions share their result objects.
    if (step.done === true) return step.value;
    yielded = step.value;
  }
}

/** An HTTP connection on a Skein server (created by `HttpServer`). */
export class HttpConnection implements ParserEvents, RequestHost, ResponseHost {
  readonly conn: Conn;
  readonly #ctx: ConnectionContext;
  #task: Task<unknown> | null = null;
  #reader: Task<unknown> | null = null;
  #out: Output | null = null;
  #parser: HttpParser | null = null;
  // Parsed requests (and queued errors) waiting for their turn.
  #queue: (ServerRequest | HttpError)[] | null = null;
  #queueHead = 0;
  #waiting = 0;
  #parsing: ServerRequest | null = null;
  #current: ServerRequest | null = null;
  #item: ServerRequest | null = null;
  #suspended: Suspended | null = null;
  #lookaheadBytes = 0;
  #pendingInput: Buffer | null = null;
  #flags = 0;
  #readKind = READ_NONE;
  /** Rarely needed state, allocated on first use (an idle connection holds none). */
  #rare: Rare | null = null;
  /** When the current read phase times out, in sweeps of the server (see `ConnectionContext.deadline`). */
  readDeadline = NO_DEADLINE;
  /** When a stalled write gives up, in sweeps. */
  writeDeadline = NO_DEADLINE;

  // Flags and rare fields behind accessors: a smaller object per connection.
  get #readerDone(): boolean {
    return (this.#flags & F_READER_DONE) !== 0;
  }
  set #readerDone(v: boolean) {
    this.#flags = v ? this.#flags | F_READER_DONE : this.#flags & ~F_READER_DONE;
  }
  get #closeAfter(): boolean {
    return (this.#flags & F_CLOSE_AFTER) !== 0;
  }
  set #closeAfter(v: boolean) {
    this.#flags = v ? this.#flags | F_CLOSE_AFTER : this.#flags & ~F_CLOSE_AFTER;
  }
  get #takenOver(): boolean {
    return (this.#flags & F_TAKEN_OVER) !== 0;
  }
  set #takenOver(v: boolean) {
    this.#flags = v ? this.#flags | F_TAKEN_OVER : this.#flags & ~F_TAKEN_OVER;
  }
  get #continueSent(): boolean {
    return (this.#flags & F_CONTINUE_SENT) !== 0;
  }
  set #continueSent(v: boolean) {
    this.#flags = v ? this.#flags | F_CONTINUE_SENT : this.#flags & ~F_CONTINUE_SENT;
  }
  #extra(): Rare {
    return (this.#rare ??= new Rare());
  }
  get #next(): Signal | null {
    return this.#rare === null ? null : this.#rare.next;
  }
  set #next(v: Signal | null) {
    this.#extra().next = v;
  }
  get #room(): Signal | null {
    return this.#rare === null ? null : this.#rare.room;
  }
  set #room(v: Signal | null) {
    this.#extra().room = v;
  }
  get #body(): Signal | null {
    return this.#rare === null ? null : this.#rare.body;
  }
  set #body(v: Signal | null) {
    this.#extra().body = v;
  }
  get #upgradeHead(): Buffer {
    return this.#rare === null ? EMPTY : this.#rare.upgradeHead;
  }
  set #upgradeHead(v: Buffer) {
    this.#extra().upgradeHead = v;
  }
  get #unhooks(): (() => void)[] | null {
    return this.#rare === null ? null : this.#rare.unhooks;
  }
  set #unhooks(v: (() => void)[] | null) {
    this.#extra().unhooks = v;
  }

  /** Where response bytes go (created for a busy period, dropped when idle). */
  get out(): Output {
    return (this.#out ??= new Output(this.conn, this.#task!.kernel));
  }

  constructor(conn: Conn, ctx: ConnectionContext) {
    this.conn = conn;
    this.#ctx = ctx;
    // The first request must arrive within the headers timeout (slowloris).
    this.#setRead(READ_HEAD, ctx.deadline(ctx.limits.headersTimeoutMs));
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
    return this.#ctx.secure;
  }

  /** True when no request is in progress on this connection. */
  get idle(): boolean {
    return this.#current === null && this.#waiting === 0 && this.#parsing === null &&
      this.#pendingInput === null && (this.#parser === null || !this.#parser.inHead);
  }

  /** Closes an idle connection at once (graceful shutdown, keep-alive timeout). */
  closeIfIdle(): boolean {
    if (!this.idle || this.#takenOver) return false;
    this.#task?.cancel();
    return true;
  }

  /** Abandons the connection (shutdown grace period over). */
  kill(): void {
    this.#task?.cancel();
  }

  /**
   * Runs the connection until it closes. Deliberately tiny: an idle
   * keep-alive connection is this one generator frame suspended in `recv`,
   * and the size of its register file is memory every idle connection pays;
   * the decisions live in the synchronous {@link #plan}.
   */
  *run(): Generator<unknown, void, any> {
    this.#task = currentTaskSync();
    try {
      for (;;) {
        switch (this.#plan()) {
          case STEP_RESPOND: {
            // Synchronous unless the handler suspends: no generator per request.
            let keep = this.#respond(this.#item!);
            if (keep === SUSPENDED) keep = yield* this.#respondAsync();
            if (keep === CLOSE) return;
            if (this.writeBlocked) yield* this.backpressure();
            break;
          }
          case STEP_WAIT:
            yield* this.#next!.wait();
            break;
          case STEP_STOP_READER:
            yield* cancel(this.#reader!);
            this.#reader = null;
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
      if (e instanceof ConnectionError) this.#onEnd(e);
      else this.#ctx.log(`skein http: connection ${this.conn.remote} failed`, e);
      if (!this.#takenOver) this.conn.abort();
    } finally {
      this.#reader?.cancel();
      this.#finish();
    }
  }

  /** Decides the connection task's next step (see {@link run}). */
  #plan(): number {
    for (;;) {
      const item = this.#shift();
      if (item !== null) {
        if (!(item instanceof HttpError)) {
          this.#item = item;
          return STEP_RESPOND;
        }
        if (item.status > 0) this.out.bytes(errorResponse(item.status));
        return STEP_CLOSE;
      }
      this.#item = null;
      if (this.#readerDone || this.#takenOver || (this.#ctx.closing && this.idle)) return STEP_CLOSE;
      if (this.#reader !== null) {
        if (!this.idle) {
          this.#next ??= new Signal("next request");
          return STEP_WAIT;
        }
        // Idle again: stop the reader (it may still hand over a last chunk), then read here.
        return STEP_STOP_READER;
      }
      const pending = this.#pendingInput;
      if (pending === null) {
        if (!this.idle) return STEP_READ;
        this.#goIdle();
        return STEP_READ_IDLE;
      }
      this.#pendingInput = null;
      this.#lookaheadBytes -= pending.length;
      this.#feed(pending);
    }
  }

  /** A read by the connection's own task. */
  #received(chunk: Buffer): void {
    if (chunk.length === 0) this.#onEnd(null);
    else this.#feed(chunk);
  }

  /** Between requests: arm the keep-alive timeout. */
  #goIdle(): void {
    if (this.#readKind !== READ_HEAD) this.#setRead(READ_IDLE, this.#ctx.deadline(this.#ctx.limits.keepAliveTimeoutMs));
  }

  /**
   * Gives back what an idle connection does not need (its parser goes to
   * the pool). Done by the sweeper, not at every idle moment: a pipelining
   * client is idle between every batch and would pay for it each time.
   */
  #trim(): void {
    if (this.#parser !== null && this.#parser.betweenMessages) {
      releaseParser(this.#parser);
      this.#parser = null;
    }
    this.#queue = null;
    this.#queueHead = 0;
    // The kernel still flushes a dropped Output it has queued; the next
    // response gets a fresh one whose bytes are queued after it.
    this.#out = null;
  }

  #finish(): void {
    if (!this.#takenOver) {
      this.#out?.flush();
      this.#out?.close();
      this.conn.close();
    }
    if (this.#parser !== null) {
      releaseParser(this.#parser);
      this.#parser = null;
    }
    if (this.#unhooks !== null) for (const unhook of this.#unhooks) unhook();
    this.readDeadline = this.writeDeadline = NO_DEADLINE;
    this.#ctx.released(this);
  }

  // ---- the queue ---------------------------------------------------------

  #enqueue(item: ServerRequest | HttpError): void {
    (this.#queue ??= []).push(item);
    this.#waiting++;
    this.#next?.wake();
  }

  #shift(): ServerRequest | HttpError | null {
    const queue = this.#queue;
    if (queue === null || this.#queueHead === queue.length) return null;
    const item = queue[this.#queueHead]!;
    queue[this.#queueHead++] = undefined as never;
    if (this.#queueHead === queue.length) {
      queue.length = 0;
      this.#queueHead = 0;
    }
    this.#waiting--;
    return item;
  }

  // ---- responding ------------------------------------------------------------

  /** Runs the app for one request; false when the connection must close after it. */
  /**
   * Runs the app for `req` up to its first suspension. Returns KEEP or
   * CLOSE when the handler finished synchronously (the common case), or
   * SUSPENDED, leaving the rest to {@link #respondAsync}.
   */
  #respond(req: ServerRequest): number {
    this.#current = req;
    this.#continueSent = false;
    this.#wakeRoom();
    const res = new ServerResponse(this, req);
    let result: unknown;
    let failure: unknown = NO_FAILURE;
    try {
      const op = this.#ctx.app(req, res);
      if (op instanceof Prepared) result = op;
      else {
        const it = op[Symbol.iterator]();
        const first = it.next();
        if (first.done === true) result = first.value;
        else {
          // first.value is read now: the result object may be shared and reused.
          this.#suspended = new Suspended(req, res, it, first.value);
          return SUSPENDED;
        }
      }
    } catch (e) {
      if (isCancelled(e)) throw e;
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
      const limit = this.#ctx.limits.handlerTimeoutMs;
      if (limit > 0) {
        const box = yield* moveOnAfter(limit, boxed(drive(it, first)));
        if (box === undefined) throw new HttpError("HTTP_ERR_HANDLER_TIMEOUT", `handler ran longer than ${limit} ms`);
        result = box.value;
      } else result = yield* drive(it, first);
    } catch (e) {
      if (isCancelled(e)) throw e;
      failure = e;
    }
    return this.#complete(req, res, result, failure) ? KEEP : CLOSE;
  }

  /** Finishes the response after the handler; false when the connection must close. */
  #complete(req: ServerRequest, res: ServerResponse, result: unknown, failure: unknown): boolean {
    if (failure === NO_FAILURE && !this.#takenOver) {
      try {
        if (result instanceof Prepared) res.sendPrepared(result);
        else if (res.state === RESPONSE_STATE.IDLE) throw new HttpError("HTTP_ERR_HANDLER", "handler returned without responding");
        else if (res.state !== RESPONSE_STATE.ENDED) res.end();
      } catch (e) {
        failure = e;
      }
    }
    if (failure !== NO_FAILURE) this.#handlerFailed(req, res, failure);
    this.#current = null;
    const dropped = req.closeBody();
    if (dropped > 0) this.bodyConsumed(dropped);
    if (!req.bodyComplete) this.#closeAfter = true; // the rest of its body would follow
    this.#wakeRoom();
    return !(this.#closeAfter || this.#takenOver);
  }

  #handlerFailed(req: ServerRequest, res: ServerResponse, e: unknown): void {
    this.#closeAfter = true;
    if (this.#takenOver) {
      this.#ctx.log(`skein http: ${req.method} ${req.target} failed after takeover`, e);
      return;
    }
    const gone = this.conn.isClosed || (e instanceof HttpError && e.code === "HTTP_ERR_CLIENT_GONE");
    if (gone) return;
    this.#ctx.log(`skein http: ${req.method} ${req.target} from ${this.conn.remote} failed`, e);
    if (res.headersSent) {
      // Too late for a status: the client sees a truncated response.
      this.out.close();
      this.conn.abort();
      return;
    }
    const status = e instanceof HttpError && e.status > 0 ? e.status : 500;
    this.out.bytes(errorResponse(status));
    res.state = RESPONSE_STATE.ENDED;
  }

  // ---- reading ------------------------------------------------------------------

  #startReader(): void {
    if (this.#reader !== null || this.#readerDone || this.#takenOver) return;
    this.#reader = this.#task!.kernel.spawn(this.#readLoop(), this.#task);
  }

  *#readLoop(): Generator<unknown, void, any> {
    try {
      for (;;) {
        while (!this.#hasRoom()) yield* (this.#room ??= new Signal("pipelining room")).wait();
        let chunk = this.#pendingInput;
        if (chunk !== null) {
          this.#pendingInput = null;
          this.#lookaheadBytes -= chunk.length;
        } else {
          chunk = yield* this.conn.recv();
          if (chunk.length === 0) return this.#onEnd(null);
        }
        this.#feed(chunk);
        if (this.#readerDone) return;
      }
    } catch (e) {
      if (isCancelled(e)) throw e;
      this.#onEnd(e);
    }
  }

  #hasRoom(): boolean {
    const waiting = this.#waiting - (this.#current === null ? 1 : 0);
    return waiting < this.#ctx.limits.maxPipelinedRequests && this.#lookaheadBytes <= this.#ctx.limits.maxLookaheadBytes;
  }

  #wakeRoom(): void {
    const room = this.#room;
    if (room !== null && room.waiting && this.#hasRoom()) room.wake();
  }

  #feed(chunk: Buffer): void {
    const parser = (this.#parser ??= acquireParser(this, this.#ctx.limits));
    let used: number;
    try {
      used = parser.execute(chunk);
    } catch (e) {
      this.#inputFailed(e instanceof HttpError ? e : new HttpError("HTTP_ERR_PARSE", "request rejected", { cause: e }));
      return;
    }
    const state = parser.state;
    if (state === PARSER_STATE.PAUSED) {
      parser.resume();
      if (used < chunk.length) {
        this.#pendingInput = chunk.subarray(used);
        this.#lookaheadBytes += chunk.length - used;
      }
    } else if (state === PARSER_STATE.UPGRADED) {
      this.#upgradeHead = chunk.subarray(used);
      this.#readerDone = true;
    } else if (state === PARSER_STATE.CLOSED) {
      this.#readerDone = true;
    }
    if (parser.inHead) {
      if (this.#readKind !== READ_HEAD) this.#setRead(READ_HEAD, this.#ctx.deadline(this.#ctx.limits.headersTimeoutMs));
    } else if (this.#parsing === null && this.#readKind !== READ_NONE) {
      this.#setRead(READ_NONE, NO_DEADLINE);
    }
  }

  /** Bad input: the request being received fails, or an error is queued for the responder. */
  #inputFailed(error: HttpError): void {
    this.#readerDone = true;
    const parsing = this.#parsing;
    if (parsing !== null) {
      parsing.failBody(error);
      this.#body?.wake();
    } else {
      this.#enqueue(error);
    }
    this.#setRead(READ_NONE, NO_DEADLINE);
    this.#next?.wake();
  }

  /** EOF (error null) or a connection error: no more requests; a running handler is cancelled. */
  #onEnd(error: unknown): void {
    this.#readerDone = true;
    this.#setRead(READ_NONE, NO_DEADLINE);
    if (this.#parsing !== null) {
      this.#parsing.failBody(new HttpError("HTTP_ERR_UNEXPECTED_EOF", "connection closed in the middle of the request", error === null ? undefined : { cause: error }));
      this.#body?.wake();
    }
    // The client is gone (RFC 9112 §9.6 lets us drop what we were doing).
    if (this.#current !== null && this.#reader !== null) this.#task?.cancel();
    else this.#next?.wake();
  }

  // ---- ParserEvents ------------------------------------------------------

  /** @internal */
  onHead(head: MessageHead): void {
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1 requests.
    if (head.flags & HEAD_MULTIPLE_HOST) throw new HttpError("HTTP_ERR_MISSING_HOST", "more than one Host header field");
    if (head.versionMinor === 1 && (head.flags & HEAD_HAS_HOST) === 0) throw new HttpError("HTTP_ERR_MISSING_HOST", "HTTP/1.1 request without Host");
    let expectContinue = false;
    if (head.expectIndex >= 0) {
      if (head.value(head.expectIndex).toLowerCase() !== EXPECT_CONTINUE) throw new HttpError("HTTP_ERR_EXPECTATION_FAILED", "unsupported expectation");
      expectContinue = head.versionMinor === 1;
    }
    const req = new ServerRequest(head, this, expectContinue);
    this.#parsing = req;
    if (this.#readKind !== READ_BODY) this.#setRead(READ_BODY, this.#ctx.deadline(this.#ctx.limits.requestTimeoutMs));
    this.#enqueue(req);
  }

  /** @internal */
  onBody(chunk: Buffer): void {
    const req = this.#parsing!;
    req.pushBody(chunk);
    if (!req.bodyClosed) {
      this.#lookaheadBytes += chunk.length;
      if (req === this.#current) this.#body?.wake();
    }
  }

  /** @internal */
  onMessageComplete(): boolean {
    const req = this.#parsing!;
    req.endBody();
    this.#parsing = null;
    if (req === this.#current) this.#body?.wake();
    this.#setRead(READ_NONE, NO_DEADLINE);
    // Pause parsing once enough requests wait (pipelining look-ahead).
    return this.#waiting - (this.#current === null ? 1 : 0) >= this.#ctx.limits.maxPipelinedRequests;
  }

  // ---- ResponseHost ----------------------------------------------------------

  /** @internal */
  connectionMode(req: ServerRequest, wantsClose: boolean): ConnectionMode {
    if (wantsClose || !req.head.keepAlive || this.#ctx.closing || req.head.upgrade || !req.bodyComplete) {
      this.#closeAfter = true;
      return "close";
    }
    return req.head.versionMinor === 0 ? "keep-alive" : "keep";
  }

  /** @internal */
  get writeBlocked(): boolean {
    return (this.#out === null ? 0 : this.#out.pendingBytes) + this.conn.pendingBytes > this.#ctx.writeHighWaterMark;
  }

  /** @internal waits for the client to read; the server's sweeper aborts a stalled one */
  *backpressure(): Generator<unknown, void, any> {
    this.out.flush();
    this.writeDeadline = this.#ctx.deadline(this.#ctx.limits.writeStallTimeoutMs);
    try {
      yield* this.conn.sendAll(EMPTY);
    } finally {
      this.writeDeadline = NO_DEADLINE;
    }
  }

  // ---- RequestHost: body -----------------------------------------------------

  /** @internal */
  waitBody(req: ServerRequest): Operation<void> {
    if (req !== this.#current) throw new HttpError("HTTP_ERR_BODY_UNAVAILABLE", "only the request being handled can read its body");
    this.#startReader();
    return (this.#body ??= new Signal("request body")).wait();
  }

  /** @internal */
  bodyConsumed(n: number): void {
    this.#lookaheadBytes -= n;
    this.#wakeRoom();
  }

  /** @internal answers `Expect: 100-continue` when the handler first waits for the body */
  willRead(req: ServerRequest): void {
    if (!req.expectContinue || this.#continueSent || req !== this.#current || this.#takenOver) return;
    this.#continueSent = true;
    this.out.bytes(CONTINUE_BYTES);
  }

  /** @internal */
  *takeover(req: ServerRequest): Generator<unknown, Takeover, any> {
    if (req !== this.#current || this.#takenOver || !this.#readerDone) {
      throw new HttpError("HTTP_ERR_RESPONSE_STATE", "takeover() is only possible once, from the handler of the upgrade request");
    }
    this.#takenOver = true;
    this.#closeAfter = true;
    this.#setRead(READ_NONE, NO_DEADLINE);
    this.out.flush();
    this.out.close();
    this.#reader?.cancel();
    const { socket, head } = this.conn.detach();
    const full = this.#upgradeHead.length === 0 ? head : head.length === 0 ? this.#upgradeHead : Buffer.concat([this.#upgradeHead, head]);
    const onShutdown = (hook: (graceMs: number) => void): (() => void) => {
      const unhook = this.#ctx.onShutdown(hook);
      (this.#unhooks ??= []).push(unhook);
      return unhook;
    };
    return { socket, head: full, onShutdown };
  }

  // ---- deadlines ---------------------------------------------------------------

  #setRead(kind: number, deadline: number): void {
    this.#readKind = kind;
    this.readDeadline = deadline;
  }

  /** Called by the server's sweeper every sweep, with the sweep count. */
  sweep(now: number): void {
    if (this.#readKind === READ_IDLE) this.#trim();
    if (now >= this.readDeadline || now >= this.writeDeadline) this.#expire(now);
  }

  #expire(now: number): void {
    if (now >= this.writeDeadline) {
      this.writeDeadline = NO_DEADLINE;
      this.#closeAfter = true;
      this.#out?.close();
      this.conn.abort(); // wakes the stalled writer with an error
    }
    if (now < this.readDeadline) return;
    const kind = this.#readKind;
    this.#setRead(READ_NONE, NO_DEADLINE);
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
      ? new HttpError("HTTP_ERR_HEADERS_TIMEOUT", `request head not received within ${this.#ctx.limits.headersTimeoutMs} ms`)
      : new HttpError("HTTP_ERR_REQUEST_TIMEOUT", `request not received within ${this.#ctx.limits.requestTimeoutMs} ms`);
    this.#inputFailed(error);
    if (this.#reader !== null) this.#reader.cancel();
    else if (this.#current === null) this.#interruptRead();
  }

  /**
   * The connection's own task is blocked reading a request that timed out:
   * the error is queued; cancel the read by restarting the task's wait.
   */
  #interruptRead(): void {
    // The task is suspended in conn.recv(); cancelling it would end the
    // connection before the 408 is written, so write it here and close.
    const item = this.#shift();
    if (item instanceof HttpError && item.status > 0) this.out.bytes(errorResponse(item.status));
    this.#task?.cancel();
  }
}
