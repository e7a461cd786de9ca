/**
 * The input side of an HTTP connection: feeding llhttp, queueing parsed
 * requests (and input errors) in order, pipelining look-ahead, body bytes for
 * the handler, and the read deadlines the server's sweeper enforces.
 * `HttpConnection` (connection.ts) extends it with the responding side.
 *
 * @module
 */
import { isCancelled, type Conn, type Task } from "@skein/core";
import type { App } from "./app.js";
import { EXPECT_CONTINUE } from "./constants.js";
import { HttpError } from "./errors.js";
import { HEAD_HAS_HOST, HEAD_MULTIPLE_HOST, HEAD_MULTIPLE_TRANSFER_ENCODING, isValidHost, type MessageHead } from "./llhttp/head.js";
import { PARSER_STATE, type ParserEvents } from "./llhttp/events.js";
import type { HttpParser } from "./llhttp/parser.js";
import { acquireParser, releaseParser } from "./llhttp/pool.js";
import type { HttpLimits } from "./limits.js";
import type { ServerRequest } from "./request.js";
import { Signal } from "./signal.js";
import type { TakenOver, TakeoverHost } from "./takeover.js";

const EMPTY = Buffer.alloc(0);

/** What a connection needs from its server. */
export interface ConnectionContext extends TakeoverHost {
  readonly app: App;
  readonly limits: Readonly<HttpLimits>;
  readonly secure: boolean;
  /** True when listening on a Unix socket. */
  readonly unixSocket: boolean;
  /** True once a graceful shutdown began: responses say `Connection: close`. */
  readonly closing: boolean;
  /**
   * The sweep count after which `ms` from now has surely passed
   * (`NO_DEADLINE` for 0): deadlines are small integers, not timers.
   */
  deadline(ms: number): number;
  /** Queued outbound bytes above which writers wait. */
  readonly writeHighWaterMark: number;
  /** The connection finished. */
  released(connection: object): void;
  /** The connection's task ended (after the tasks its handlers started, which may outlive the socket). */
  taskEnded(connection: object): void;
}

/** `readDeadline`/`writeDeadline` when nothing is timed (the largest small integer). */
export const NO_DEADLINE = 0x3fffffff;

/** What the read deadline currently guards. */
export const READ_NONE = 0;
/** Waiting for the next request on a kept-alive connection. */
export const READ_IDLE = 1;
/** Receiving a request head. */
export const READ_HEAD = 2;
/** Receiving a request body. */
export const READ_BODY = 3;

// ConnectionInput.flags
const F_READER_DONE = 1;
const F_CLOSE_AFTER = 2;
const F_TAKEN_OVER = 4;
const F_CONTINUE_DONE = 8;
const F_CONTINUE_SENT = 16;

/** What `holdReadClock` held: a body whose clock had not started (waiting for our 100 Continue). */
const READ_BODY_UNTIMED = -1;

/** The rarely used part of a connection's state. */
class Rare {
  next: Signal | null = null;
  room: Signal | null = null;
  body: Signal | null = null;
  upgradeHead: Buffer = EMPTY;
  taken: TakenOver | null = null;
  /** Outbound bytes still queued at the last sign of the client reading (write-stall timeout). */
  stallPending = 0;
  /** Body bytes dropped after the response (see `maxDrainBytes`). */
  drained = 0;
}

/** The input side of a connection (see the module comment). */
export abstract class ConnectionInput implements ParserEvents {
  readonly conn: Conn;
  protected readonly ctx: ConnectionContext;
  protected task: Task<unknown> | null = null;
  protected reader: Task<unknown> | null = null;
  protected parser: HttpParser | null = null;
  // Parsed requests (and queued errors) waiting for their turn.
  protected queue: (ServerRequest | HttpError)[] | null = null;
  protected queueHead = 0;
  protected waiting = 0;
  /** The request whose body is being parsed. */
  protected parsing: ServerRequest | null = null;
  /** The request being handled. */
  protected current: ServerRequest | null = null;
  protected lookaheadBytes = 0;
  protected pendingInput: Buffer | null = null;
  protected flags = 0;
  protected readKind = READ_NONE;
  /** Rarely needed state, allocated on first use (an idle connection holds none). */
  protected rare: Rare | null = null;
  /** When the current read phase times out, in sweeps of the server (see `ConnectionContext.deadline`). */
  readDeadline = NO_DEADLINE;
  /** When the request being received must be complete (`requestTimeoutMs` from its first byte), as a sweep count. */
  private requestDeadline = NO_DEADLINE;
  /** When a stalled write gives up, in sweeps. */
  writeDeadline = NO_DEADLINE;

  // Flags and rare fields behind accessors: a smaller object per connection.
  protected get readerDone(): boolean {
    return (this.flags & F_READER_DONE) !== 0;
  }
  protected set readerDone(v: boolean) {
    this.flags = v ? this.flags | F_READER_DONE : this.flags & ~F_READER_DONE;
  }
  protected get closeAfter(): boolean {
    return (this.flags & F_CLOSE_AFTER) !== 0;
  }
  protected set closeAfter(v: boolean) {
    this.flags = v ? this.flags | F_CLOSE_AFTER : this.flags & ~F_CLOSE_AFTER;
  }
  protected get takenOver(): boolean {
    return (this.flags & F_TAKEN_OVER) !== 0;
  }
  protected set takenOver(v: boolean) {
    this.flags = v ? this.flags | F_TAKEN_OVER : this.flags & ~F_TAKEN_OVER;
  }
  /** A 100 Continue was sent for the current request, or can no longer be (its final response has begun). */
  protected get continueDone(): boolean {
    return (this.flags & F_CONTINUE_DONE) !== 0;
  }
  protected set continueDone(v: boolean) {
    this.flags = v ? this.flags | F_CONTINUE_DONE : this.flags & ~F_CONTINUE_DONE;
  }
  /** A 100 Continue went out for the current request. */
  protected get continueSent(): boolean {
    return (this.flags & F_CONTINUE_SENT) !== 0;
  }
  protected set continueSent(v: boolean) {
    this.flags = v ? this.flags | F_CONTINUE_SENT : this.flags & ~F_CONTINUE_SENT;
  }

  /**
   * Whether the rest of `req`'s body, should its response end first, can be
   * read and dropped to keep the connection: not when the client may still
   * be waiting for our 100 Continue (it may or may not send the body: only
   * closing is unambiguous, RFC 9110 §10.1.1), nor when more than
   * `maxDrainBytes` is declared.
   */
  protected drainable(req: ServerRequest): boolean {
    const max = this.ctx.limits.maxDrainBytes;
    if (max === 0 || (req.expectContinue && !this.continueSent)) return false;
    return req.contentLength <= max;
  }
  protected extra(): Rare {
    return (this.rare ??= new Rare());
  }
  protected get next(): Signal | null {
    return this.rare === null ? null : this.rare.next;
  }
  protected set next(v: Signal | null) {
    this.extra().next = v;
  }
  protected get room(): Signal | null {
    return this.rare === null ? null : this.rare.room;
  }
  protected set room(v: Signal | null) {
    this.extra().room = v;
  }
  protected get body(): Signal | null {
    return this.rare === null ? null : this.rare.body;
  }
  protected set body(v: Signal | null) {
    this.extra().body = v;
  }
  protected get upgradeHead(): Buffer {
    return this.rare === null ? EMPTY : this.rare.upgradeHead;
  }
  protected set upgradeHead(v: Buffer) {
    this.extra().upgradeHead = v;
  }
  /** What `takeover()` handed out, once it was called. */
  protected get taken(): TakenOver | null {
    return this.rare === null ? null : this.rare.taken;
  }
  protected set taken(v: TakenOver | null) {
    this.extra().taken = v;
  }

  constructor(conn: Conn, ctx: ConnectionContext) {
    this.conn = conn;
    this.ctx = ctx;
    // The first request must arrive within the headers timeout (slowloris).
    this.startHead();
  }

  /** Requests parsed and waiting for their turn (pipelining look-ahead). */
  get queuedRequests(): number {
    return this.waiting;
  }

  /** Wraps a parsed head in the request its handler will see. */
  protected abstract createRequest(head: MessageHead, expectContinue: boolean): ServerRequest;

  /** True when no request is in progress on this connection. */
  get idle(): boolean {
    return this.noRequest && (this.parser === null || !this.parser.inHead);
  }

  /**
   * No request is being handled, queued or parsed, and no bytes wait to be
   * parsed; unlike {@link idle}, a request head may have begun arriving.
   */
  get noRequest(): boolean {
    return this.current === null && this.waiting === 0 && this.parsing === null && this.pendingInput === null;
  }

  /** Gives the parser back to the pool and drops the empty queue (the connection is idle). */
  protected trimInput(): void {
    if (this.parser !== null && this.parser.reusable) {
      releaseParser(this.parser);
      this.parser = null;
    }
    this.queue = null;
    this.queueHead = 0;
  }

  // ---- the queue ---------------------------------------------------------

  protected enqueue(item: ServerRequest | HttpError): void {
    (this.queue ??= []).push(item);
    this.waiting++;
    this.next?.wake();
  }

  protected shift(): ServerRequest | HttpError | null {
    const queue = this.queue;
    if (queue === null || this.queueHead === queue.length) return null;
    const item = queue[this.queueHead]!;
    queue[this.queueHead++] = undefined as never;
    if (this.queueHead === queue.length) {
      queue.length = 0;
      this.queueHead = 0;
    }
    this.waiting--;
    return item;
  }

  protected *readLoop(): Generator<unknown, void, any> {
    try {
      for (;;) {
        if (!this.hasRoom()) yield* this.#waitForRoom();
        let chunk = this.pendingInput;
        if (chunk !== null) {
          this.pendingInput = null;
          this.lookaheadBytes -= chunk.length;
        } else {
          chunk = yield* this.conn.recv();
          if (chunk.length === 0) return this.onEnd(null);
        }
        this.feed(chunk);
        if (this.readerDone) return;
      }
    } catch (e) {
      if (isCancelled(e)) throw e;
      this.onEnd(e);
    }
  }

  /**
   * Stops reading until the handlers catch up. The server, not the client,
   * is holding the request being received meanwhile: its clock stops, and
   * starts afresh when reading resumes (else a client that sent a head or
   * body in time got a 408 for the server's pause).
   */
  *#waitForRoom(): Generator<unknown, void, any> {
    const held = this.holdReadClock();
    while (!this.hasRoom()) yield* (this.room ??= new Signal("pipelining room")).wait();
    this.restartReadClock(held);
  }

  /**
   * Stops the clock of the request being received while the server, not
   * the client, holds up reading (a full look-ahead, a response the client
   * is still downloading); returns what it guarded, for {@link restartReadClock}.
   */
  protected holdReadClock(): number {
    const kind = this.readKind;
    if (kind !== READ_HEAD && kind !== READ_BODY) return kind;
    // A body clock not yet running (waiting for our 100 Continue) stays so.
    const held = kind === READ_BODY && this.readDeadline === NO_DEADLINE ? READ_BODY_UNTIMED : kind;
    this.setRead(READ_NONE, NO_DEADLINE);
    return held;
  }

  /** Reading resumes: the held clock starts afresh. */
  protected restartReadClock(kind: number): void {
    if (kind === READ_HEAD && this.parser !== null && this.parser.inHead) this.startHead();
    else if (kind === READ_BODY_UNTIMED && this.parsing !== null) {
      this.setRead(READ_BODY, NO_DEADLINE);
      // The 100 may have gone out (or the final response begun) while held.
      if (this.continueDone && this.parsing === this.current) this.timeBody(this.parsing);
    }
    else if (kind === READ_BODY && this.parsing !== null) {
      this.requestDeadline = this.ctx.deadline(this.ctx.limits.requestTimeoutMs);
      this.setRead(READ_BODY, this.requestDeadline);
    }
  }

  /**
   * A body that waited for our 100 Continue: the client sends it now (or
   * knows none is coming), so its clock starts (see onHead).
   */
  protected timeBody(req: ServerRequest): void {
    if (this.readKind === READ_BODY && this.parsing === req && this.readDeadline === NO_DEADLINE) {
      this.setRead(READ_BODY, this.ctx.deadline(this.ctx.limits.requestTimeoutMs));
    }
  }

  protected hasRoom(): boolean {
    const limits = this.ctx.limits;
    if (this.lookaheadBytes > limits.maxLookaheadBytes) return false;
    // The body of the request being handled is not look-ahead: it is read
    // whatever the pipelining limit (0 = one request at a time).
    if (this.parsing !== null && this.parsing === this.current) return true;
    return this.waiting - (this.current === null ? 1 : 0) < limits.maxPipelinedRequests;
  }

  protected wakeRoom(): void {
    const room = this.room;
    if (room !== null && room.waiting && this.hasRoom()) room.wake();
  }

  protected feed(chunk: Buffer): void {
    const parser = (this.parser ??= acquireParser(this, this.ctx.limits));
    let used: number;
    try {
      used = parser.execute(chunk);
    } catch (e) {
      this.inputFailed(e instanceof HttpError ? e : new HttpError("HTTP_ERR_PARSE", "request rejected", { cause: e }));
      return;
    }
    const state = parser.state;
    if (state === PARSER_STATE.PAUSED) {
      parser.resume();
      if (used < chunk.length) {
        this.pendingInput = chunk.subarray(used);
        this.lookaheadBytes += chunk.length - used;
      }
    } else if (state === PARSER_STATE.UPGRADED) {
      this.upgradeHead = chunk.subarray(used);
      this.readerDone = true;
    } else if (state === PARSER_STATE.CLOSED) {
      this.readerDone = true;
    }
    // A complete message has already stopped the clocks (onMessageComplete).
    // Bytes that started none (llhttp skips CRLF between requests) leave the
    // headers or keep-alive clock running: else a client sending CRLF now
    // and then would hold the connection for ever.
    if (parser.inHead && this.readKind !== READ_HEAD) this.startHead();
  }

  /** A request head has begun: both the headers and the whole-request clocks start now. */
  private startHead(): void {
    const limits = this.ctx.limits;
    this.requestDeadline = this.ctx.deadline(limits.requestTimeoutMs);
    this.setRead(READ_HEAD, Math.min(this.ctx.deadline(limits.headersTimeoutMs), this.requestDeadline));
  }

  /** Bad input: the request being received fails, or an error is queued for the responder. */
  protected inputFailed(error: HttpError): void {
    this.readerDone = true;
    const parsing = this.parsing;
    if (parsing !== null) {
      parsing.failBody(error);
      this.body?.wake();
    } else {
      this.enqueue(error);
    }
    this.setRead(READ_NONE, NO_DEADLINE);
    this.next?.wake();
  }

  /** EOF (error null) or a connection error: no more requests; a running handler is cancelled. */
  protected onEnd(error: unknown): void {
    this.readerDone = true;
    this.setRead(READ_NONE, NO_DEADLINE);
    if (this.parsing !== null) {
      this.parsing.failBody(new HttpError("HTTP_ERR_UNEXPECTED_EOF", "connection closed in the middle of the request", error === null ? undefined : { cause: error }));
      this.body?.wake();
    }
    // The client is gone (RFC 9112 §9.6 lets us drop what we were doing).
    if (this.current !== null && this.reader !== null) this.task?.cancel();
    else this.next?.wake();
  }

  // ---- ParserEvents ------------------------------------------------------

  /** @internal */
  onHead(head: MessageHead): void {
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1 requests.
    if (head.flags & HEAD_MULTIPLE_HOST) throw new HttpError("HTTP_ERR_MISSING_HOST", "more than one Host header field");
    if (head.versionMinor === 1 && (head.flags & HEAD_HAS_HOST) === 0) throw new HttpError("HTTP_ERR_MISSING_HOST", "HTTP/1.1 request without Host");
    const host = head.hostIndex;
    if (host >= 0 && !isValidHost(head.buf, head.spans[4 + 4 * host]!, head.spans[5 + 4 * host]!)) {
      throw new HttpError("HTTP_ERR_INVALID_HOST", "the Host header is not a valid host[:port]");
    }
    // llhttp accepts any codings ending in chunked ("gzip, chunked"); the
    // server decodes chunked only, so anything more is 501 (RFC 9112 §6.1),
    // as h11 and Go answer, rather than handing the app still-coded bytes.
    // Codings that do not end in chunked leave the body's length unknown:
    // 400 (RFC 9112 §6.3, rule 4).
    const te = head.transferEncodingIndex;
    if (te >= 0 && ((head.flags & HEAD_MULTIPLE_TRANSFER_ENCODING) !== 0 || !head.valueIs(te, "chunked"))) {
      if ((head.flags & HEAD_MULTIPLE_TRANSFER_ENCODING) === 0 && !endsInChunked(head.value(te))) {
        throw new HttpError("HTTP_ERR_BAD_TRANSFER_ENCODING", "the final transfer coding of a request must be chunked");
      }
      throw new HttpError("HTTP_ERR_UNSUPPORTED_TRANSFER_CODING", "only Transfer-Encoding: chunked is supported");
    }
    let expectContinue = false;
    if (head.expectIndex >= 0) {
      if (head.value(head.expectIndex).toLowerCase() !== EXPECT_CONTINUE) throw new HttpError("HTTP_ERR_EXPECTATION_FAILED", "unsupported expectation");
      expectContinue = head.versionMinor === 1;
    }
    const req = this.createRequest(head, expectContinue);
    this.parsing = req;
    if (this.rare !== null) this.rare.drained = 0;
    // The body gets what is left of requestTimeoutMs, counted from the head's
    // first byte (a head that came whole in one read starts it now); one
    // that waits for our 100 Continue has no clock until we send it, or
    // start the final response (the server, not the client, holds it up).
    if (this.readKind !== READ_HEAD) this.requestDeadline = this.ctx.deadline(this.ctx.limits.requestTimeoutMs);
    if (this.readKind !== READ_BODY) this.setRead(READ_BODY, expectContinue ? NO_DEADLINE : this.requestDeadline);
    this.enqueue(req);
  }

  /** @internal */
  onBody(chunk: Buffer): void {
    const req = this.parsing!;
    if (req.bodyClosed) {
      // Answered already: dropped, up to maxDrainBytes (the connection closes past it).
      const rare = this.extra();
      const max = this.ctx.limits.maxDrainBytes;
      rare.drained += chunk.length;
      if (rare.drained > max) throw new HttpError("HTTP_ERR_BODY_TOO_LARGE", `more than ${max} bytes of body left unread after the response`);
      return;
    }
    req.pushBody(chunk);
    this.lookaheadBytes += chunk.length;
    if (req === this.current) this.body?.wake();
  }

  /** @internal */
  onMessageComplete(): boolean {
    const req = this.parsing!;
    req.endBody();
    this.parsing = null;
    if (req === this.current) this.body?.wake();
    this.setRead(READ_NONE, NO_DEADLINE);
    // Pause parsing once enough requests wait (pipelining look-ahead).
    return this.waiting - (this.current === null ? 1 : 0) >= this.ctx.limits.maxPipelinedRequests;
  }

  // ---- deadlines ----

  protected setRead(kind: number, deadline: number): void {
    this.readKind = kind;
    this.readDeadline = deadline;
  }
}

/** True when the last coding of a Transfer-Encoding value is `chunked`. */
function endsInChunked(value: string): boolean {
  const last = value.slice(value.lastIndexOf(",") + 1);
  return last.trim().toLowerCase() === "chunked";
}
