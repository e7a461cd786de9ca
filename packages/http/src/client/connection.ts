/**
 * One client connection: a {@link Conn}, an llhttp parser in RESPONSE mode,
 * and the exchanges in flight on it, in request order (HTTP/1.1 answers in
 * order, so the response being parsed always belongs to the oldest one).
 *
 * There is no background reader task: whichever request needs bytes (its
 * head, or its next body piece) reads and parses for everyone, and the
 * pieces for other exchanges are queued on them. When it has what it needs
 * it wakes the others so one of them takes over reading.
 *
 * @module
 */
import { cancel, ConnectionError, Event, isCancelled, join, Lock, race, spawn, type Conn } from "@skein/core";
import { HttpError, HttpParseError } from "../errors.js";
import { LLHTTP_ERROR } from "../llhttp/constants.js";
import { HttpParser, PARSER_STATE, type MessageHead, type ParserEvents } from "../llhttp/index.js";
import { writeBody, type RequestBody } from "./body.js";
import { ResponseResetError } from "./errors.js";

const EMPTY = Buffer.alloc(0);

/** What a connection tells its pool. */
export interface ConnectionOwner {
  /** An exchange finished (response complete or failed); `c.active` dropped. */
  released(c: ClientConnection): void;
  /** The connection is dead and must not be handed out again. */
  removed(c: ClientConnection): void;
}

/** One request/response on a connection. */
export class Exchange {
  /** A response to HEAD has no body whatever its headers say (RFC 9110 §9.3.2). */
  readonly skipBody: boolean;
  head: MessageHead | null = null;
  /** Body pieces received and not yet read (views of socket data). */
  readonly chunks: Buffer[] = [];
  /** Bytes in {@link chunks}. */
  bufferedBytes = 0;
  /** The whole response has been parsed. */
  done = false;
  /** Why the exchange failed; thrown to whoever waits on it. */
  error: Error | null = null;
  /** Some byte of this response has arrived. */
  started = false;
  /** The request has been queued on the wire. */
  written = false;
  /** The response head came while the body was still being sent, which then stopped. */
  answeredEarly = false;
  /** @internal */ readonly changed = new Event("response");

  constructor(
    readonly connection: ClientConnection,
    method: string,
    /** The request carries an Upgrade field: a 101 may answer it (the connection then ends here). */
    readonly asksUpgrade = false,
  ) {
    this.skipBody = method === "HEAD";
  }

  /** Takes the next buffered body piece; empty at the end of the body. */
  take(): Buffer {
    const chunks = this.chunks;
    if (chunks.length === 0) return EMPTY;
    const piece = chunks.shift()!;
    const before = this.bufferedBytes;
    this.bufferedBytes = before - piece.length;
    this.connection.bodyTaken(this, before);
    return piece;
  }
}

const hasHead = (ex: Exchange): boolean => ex.head !== null;
const hasBodyPiece = (ex: Exchange): boolean => ex.chunks.length > 0 || ex.done;

/** A keep-alive connection to one origin. */
export class ClientConnection implements ParserEvents {
  readonly conn: Conn;
  readonly parser: HttpParser;
  /** Exchanges assigned to this connection and not finished (written or waiting to be). */
  active = 0;
  /** Responses completed on this connection. */
  responses = 0;
  /** False once the connection must not take new requests (close, error, Upgrade). */
  reusable = true;
  /** False once the socket is gone. */
  alive = true;
  readonly #owner: ConnectionOwner;
  /** Written requests awaiting their response, oldest first. */
  readonly #queue: Exchange[] = [];
  readonly #writer = new Lock("request writer");
  readonly #maxBufferedBodyBytes: number;
  #reading = false;
  /** A request body was cut short after an early answer: later requests must not be written after it. */
  #cutShort = false;
  /** Parsing a 1xx interim response, which belongs to no exchange. */
  #interim = false;

  constructor(conn: Conn, owner: ConnectionOwner, maxHeadBytes: number, maxBufferedBodyBytes = 0) {
    this.conn = conn;
    this.#owner = owner;
    this.#maxBufferedBodyBytes = maxBufferedBodyBytes;
    this.parser = new HttpParser("response", this, { maxHeadBytes, maxHeaderCount: 0, maxBodyBytes: 0 });
  }

  /** Reserves a place for a new request on this connection. */
  begin(method: string, asksUpgrade = false): Exchange {
    this.active++;
    if (asksUpgrade) this.reusable = false; // nothing may be pipelined behind it
    return new Exchange(this, method, asksUpgrade);
  }

  /** Gives back a reservation whose request was never written (no-op once it was). */
  abandon(ex: Exchange, reason = "the request was abandoned before it was sent"): void {
    if (ex.written || ex.done || ex.error !== null) return;
    ex.error = new ResponseResetError(reason, false);
    this.#finished();
    this.#closeIfSpent();
  }

  /**
   * Writes the request (head, then body) in turn with other requests on
   * this connection. A write failure is not thrown here: the read side
   * reports what happened (the server may have answered before closing).
   */
  *send(ex: Exchange, head: Buffer, body: RequestBody): Generator<unknown, void, any> {
    yield* this.#writer.acquire();
    try {
      if (!this.alive || ex.error !== null || this.#cutShort) {
        this.abandon(ex, this.#cutShort ? "the request before it on the connection was cut short" : "the connection closed before the request was sent");
        throw ex.error;
      }
      ex.written = true;
      this.#queue.push(ex);
      try {
        this.conn.send(head);
        yield* writeBody(this.conn, body);
      } catch (e) {
        if (isCancelled(e)) throw e;
        if (!(e instanceof ConnectionError)) {
          // The body source failed: the request on the wire is incomplete.
          this.#fail(ex, e as Error, (other) => new ResponseResetError("connection discarded: a request body failed", other.started, undefined, e));
          throw e;
        }
        this.reusable = false;
      }
    } catch (e) {
      if (isCancelled(e) && ex.written && !ex.answeredEarly) this.discard("a request was cancelled while it was being sent");
      throw e;
    } finally {
      this.#writer.release();
    }
  }

  /**
   * {@link send}, watching for an early answer while a body that may take
   * a while goes out (RFC 9112 §9.5): a final response of 300 or more that
   * arrives first (a 413, a 401: the server has decided without the body,
   * and may have stopped reading) stops the rest of the body, and the
   * connection is not reused (its request is cut short). A 2xx head (an
   * echo answers as it reads) lets the body go on.
   */
  *sendWatching(ex: Exchange, head: Buffer, body: RequestBody): Generator<unknown, void, any> {
    if (!mayTakeAWhile(body)) return yield* this.send(ex, head, body);
    // The sender keeps its error for this task to throw: a failure of a
    // task nobody is joining at that moment would cancel the caller instead.
    let failure: { error: unknown } | null = null;
    const send = this.send(ex, head, body);
    const sender = yield* spawn(function* () {
      try {
        yield* send;
      } catch (error) {
        if (isCancelled(error)) throw error;
        failure = { error };
      }
    }, { name: "request body" });
    try {
      for (;;) {
        if (sender.isDone || (ex.head !== null && ex.head.status < 300)) {
          yield* join(sender);
          if (failure !== null) throw (failure as { error: unknown }).error;
          return;
        }
        if (ex.head !== null || ex.error !== null) {
          // The request on the wire is cut short: nothing more may be written here.
          ex.answeredEarly = true;
          this.#cutShort = true;
          this.reusable = false;
          yield* cancel(sender);
          if (ex.error !== null) throw ex.error;
          return;
        }
        if (this.#reading) {
          ex.changed.clear();
          yield* race([join(sender), ex.changed.wait()]);
        } else {
          yield* race([join(sender), this.#readOnce()]);
        }
      }
    } finally {
      // Interrupted (a deadline, the caller's cancellation): the body stops
      // with it, and the connection, its request incomplete, is discarded.
      if (!sender.isDone) yield* cancel(sender);
    }
  }

  /** Suspends until the response head of `ex` has been parsed. */
  waitHead(ex: Exchange): Generator<unknown, MessageHead, any> {
    return this.#until(ex, hasHead, headOf);
  }

  /** The next piece of the body of `ex`, or an empty buffer at its end. */
  nextPiece(ex: Exchange): Generator<unknown, Buffer, any> {
    return this.#until(ex, hasBodyPiece, takePiece);
  }

  /**
   * Closes the connection at once (TCP reset) and fails every exchange on
   * it: what a cancelled request leaves behind cannot be reused, since its
   * response may still arrive.
   */
  discard(reason: string): void {
    if (!this.alive) return;
    this.#fail(null, null, (ex) => new ResponseResetError(`connection discarded: ${reason}`, ex.started));
  }

  /** Closes an idle connection gracefully. */
  close(): void {
    if (!this.alive) return;
    this.alive = false;
    this.reusable = false;
    this.conn.close(1000);
    this.parser.destroy();
    this.#owner.removed(this);
  }

  // ---- reading -------------------------------------------------------

  *#until<T>(ex: Exchange, ready: (ex: Exchange) => boolean, result: (ex: Exchange) => T): Generator<unknown, T, any> {
    try {
      for (;;) {
        if (ready(ex)) return result(ex);
        if (ex.error !== null) throw ex.error;
        if (this.#reading || this.#holdsBack(ex)) {
          ex.changed.clear();
          yield* ex.changed.wait();
          continue;
        }
        yield* this.#readOnce();
        // Hand reading over: whoever still needs bytes will pick it up.
        for (const other of this.#queue) if (other !== ex) other.changed.set();
      }
    } catch (e) {
      if (isCancelled(e) && !ex.done) this.discard("a request was cancelled before its response was complete");
      throw e;
    }
  }

  /**
   * True when reading for `ex` must wait: the response ahead of it holds
   * `maxBufferedBodyBytes` of body its reader has not taken (backpressure
   * instead of buffering a large unread body without bound).
   */
  #holdsBack(ex: Exchange): boolean {
    const front = this.#queue[0];
    return front !== undefined && front !== ex && this.#overLimit(front.bufferedBytes);
  }

  #overLimit(bufferedBytes: number): boolean {
    return this.#maxBufferedBodyBytes > 0 && bufferedBytes >= this.#maxBufferedBodyBytes;
  }

  /**
   * @internal a reader took a body piece of `ex`, which held `before` bytes:
   * when that brings it back under the limit, reading resumes for the others
   * (only then: not a wake-up per body piece).
   */
  bodyTaken(ex: Exchange, before: number): void {
    if (ex !== this.#queue[0] || this.#reading || !this.#overLimit(before) || this.#overLimit(ex.bufferedBytes)) return;
    for (const other of this.#queue) if (other !== ex) other.changed.set();
  }

  *#readOnce(): Generator<unknown, void, any> {
    this.#reading = true;
    let chunk: Buffer;
    try {
      chunk = yield* this.conn.recv();
    } catch (e) {
      if (isCancelled(e)) throw e;
      const code = e instanceof ConnectionError ? e.syscallCode : undefined;
      this.#fail(null, null, (ex) => new ResponseResetError(`connection reset${ex.started ? " in the middle of the response" : " before the response"}`, ex.started, code, e));
      return;
    } finally {
      this.#reading = false;
    }
    if (chunk.length === 0) return this.#onEof();
    const front = this.#queue[0];
    if (front !== undefined) front.started = true;
    try {
      this.parser.execute(chunk);
    } catch (e) {
      // The oldest exchange gets llhttp's error; the rest lose their connection.
      const culprit = this.#queue[0] ?? null;
      this.#fail(culprit, e as Error, (ex) => new ResponseResetError("connection discarded after a malformed response", ex.started, undefined, e));
      return;
    }
    const next = this.#queue[0];
    if (next !== undefined && this.parser.inHead) next.started = true;
    const st = this.parser.state;
    if (st === PARSER_STATE.UPGRADED || st === PARSER_STATE.CLOSED) this.reusable = false;
    // Bytes past the last response with no request waiting (a bogus body
    // after a HEAD or 204 answer, a response nobody asked for) would be read
    // as the next request's response: the connection is spent.
    if (next === undefined && !this.parser.betweenMessages) this.reusable = false;
    this.#closeIfSpent();
  }

  /** A connection that may not be reused closes once nothing is left on it. */
  #closeIfSpent(): void {
    if (!this.reusable && this.alive && this.active === 0) this.close();
  }

  #onEof(): void {
    try {
      this.parser.finish(); // completes a body delimited by the end of the connection
    } catch (e) {
      const culprit = this.#queue[0] ?? null;
      this.#fail(culprit, new ResponseResetError("connection closed in the middle of the response", true, undefined, e), resetBeforeResponse);
      return;
    }
    this.#fail(null, null, resetBeforeResponse);
  }

  /** Kills the connection: `culprit` gets `error`, every other pending exchange `others(ex)`. */
  #fail(culprit: Exchange | null, error: Error | null, others: (ex: Exchange) => Error): void {
    const wasAlive = this.alive;
    this.alive = false;
    this.reusable = false;
    if (wasAlive) {
      this.conn.abort();
      this.parser.destroy();
    }
    const queue = this.#queue.splice(0);
    for (const ex of queue) {
      ex.error = ex === culprit && error !== null ? error : others(ex);
      ex.changed.set();
      this.#finished();
    }
    if (wasAlive) this.#owner.removed(this);
  }

  #finished(): void {
    this.active--;
    this.#owner.released(this);
  }

  // ---- parser events (ParserEvents) ----------------------------------

  /** @internal */
  onHead(head: MessageHead): boolean {
    const ex = this.#queue[0];
    if (ex === undefined) throw new HttpError("HTTP_ERR_PARSE", "a response arrived with no request waiting for it");
    // 1xx interim responses (100 Continue, 103 Early Hints) precede the real
    // one and never have content, whatever their fields say (RFC 9110 §15.2).
    if (head.status === 101 && !ex.asksUpgrade) {
      // Only an Upgrade request may be answered so (RFC 9110 §15.2.2): what
      // follows is another protocol's bytes, not a response to read.
      throw new HttpParseError("HTTP_ERR_PARSE", LLHTTP_ERROR.USER, "HPE_USER", "101 Switching Protocols to a request that did not ask to upgrade", 0);
    }
    if (head.status < 200 && head.status !== 101) {
      this.#interim = true;
      return true;
    }
    ex.head = head;
    ex.started = true;
    // After a 101 the connection speaks another protocol: never reused.
    if (!head.keepAlive || head.status === 101) this.reusable = false;
    ex.changed.set();
    return ex.skipBody;
  }

  /** @internal */
  onBody(chunk: Buffer): void {
    if (this.#interim) return;
    const ex = this.#queue[0]!;
    // `chunk` is a view of the socket's buffer, which is never reused: keep it as is.
    ex.chunks.push(chunk);
    ex.bufferedBytes += chunk.length;
    ex.changed.set();
  }

  /** @internal */
  onMessageComplete(): void {
    if (this.#interim) {
      this.#interim = false;
      return;
    }
    const ex = this.#queue.shift()!;
    ex.done = true;
    ex.changed.set();
    this.responses++;
    // Closing waits for the end of execute(): the parser must not be freed inside its own callback.
    this.#finished();
  }
}

function headOf(ex: Exchange): MessageHead {
  return ex.head!;
}

function takePiece(ex: Exchange): Buffer {
  return ex.take();
}

function resetBeforeResponse(ex: Exchange): Error {
  return new ResponseResetError(ex.started ? "connection closed in the middle of the response" : "connection closed before the response", ex.started);
}

/** Bodies worth watching for an early answer: streams, and fixed bodies past what one write takes at once. */
function mayTakeAWhile(body: RequestBody): boolean {
  if (body === null || body === undefined) return false;
  if (typeof body === "string") return body.length > 16 * 1024;
  if (body instanceof Uint8Array) return body.length > 64 * 1024;
  return true;
}
