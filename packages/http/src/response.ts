/**
 * `ServerResponse`: the Skein server's `Response`, an explicit state machine
 * (IDLE → STARTED → STREAMING → ENDED) that rejects illegal transitions and
 * chooses the framing of the body (RFC 9112 §6): Content-Length when the
 * whole body is known, chunked when streaming over HTTP/1.1, close-delimited
 * when streaming to an HTTP/1.0 client.
 *
 * @module
 */
import type { Operation } from "@skein/core";
import { RESPONSE_STATE, type Response, type ResponseState } from "./app.js";
import { LAST_CHUNK } from "./constants.js";
import { HttpError } from "./errors.js";
import { LLHTTP_METHOD } from "./llhttp/constants.js";
import type { Output } from "./output.js";
import type { Prepared } from "./prepared.js";
import type { ServerRequest } from "./request.js";
import { buildHead, FRAMING, NO_FIELDS, serializeFields, type ConnectionMode, type HeaderInit, type SerializedFields } from "./response-head.js";
import { bodyRefused, chunkLength, ResponseBase } from "./response-outcome.js";
import { forbidsContent, isBodiless, isValidStatus } from "./status.js";

/** What a response needs from its connection. */
export interface ResponseHost {
  /** Where bytes go. */
  readonly out: Output;
  /** True while the client is not keeping up (a write should wait). */
  readonly writeBlocked: boolean;
  /** Waits until the client has read enough, or (`all`) everything written (bounded by the write-stall timeout). */
  backpressure(all?: boolean): Operation<void>;
  /** Called as the head of the final response is written: decides keep-alive (and remembers to close after it). */
  connectionMode(req: ServerRequest, wantsClose: boolean): ConnectionMode;
}

function stateError(message: string): HttpError {
  return new HttpError("HTTP_ERR_RESPONSE_STATE", message);
}

/**
 * A response in progress on a Skein server connection.
 *
 * @example
 * res.start(200, { "content-type": "text/csv" });
 * yield* res.write("a,b\n");
 * res.end("1,2\n");
 */
export class ServerResponse extends ResponseBase implements Response {
  /** See {@link RESPONSE_STATE}. */
  state: ResponseState = RESPONSE_STATE.IDLE;
  /** Status given to `start` (0 before). */
  status = 0;
  readonly #host: ResponseHost;
  readonly #req: ServerRequest;
  #fields: SerializedFields = NO_FIELDS;
  #framing: number = FRAMING.NONE;
  #remaining = 0;
  #headOnly: boolean;
  /** The prepared response sent, if any (its body bytes are counted only when asked). */
  #prepared: Prepared | null = null;

  constructor(host: ResponseHost, req: ServerRequest) {
    super();
    this.#host = host;
    this.#req = req;
    this.#headOnly = req.head.method === LLHTTP_METHOD.HEAD;
  }

  /** True once the head has been written. */
  get headersSent(): boolean {
    return this.state >= RESPONSE_STATE.STREAMING;
  }

  /** @internal the body is delimited by closing the connection: a client cannot tell it was cut short */
  get endsAtClose(): boolean {
    return this.#framing === FRAMING.CLOSE;
  }

  /** Sets status and fields; the head is written by the first `write` or `end`. */
  start(status: number, headers?: HeaderInit): void {
    if (this.state !== RESPONSE_STATE.IDLE) throw stateError("start() called twice or after the response began");
    if (!isValidStatus(status) || status < 200) {
      throw new HttpError("HTTP_ERR_INVALID_RESPONSE", `invalid status ${String(status)} (1xx responses are not sent with start; use takeover for 101)`);
    }
    this.#fields = serializeFields(headers);
    this.status = status;
    this.state = RESPONSE_STATE.STARTED;
  }

  /** Writes a piece of the body; suspends while the client is not reading. */
  *write(chunk: string | Uint8Array): Generator<unknown, void, any> {
    if (this.state === RESPONSE_STATE.ENDED) throw stateError("write() after end()");
    if (this.state === RESPONSE_STATE.IDLE) this.start(200);
    if (this.state === RESPONSE_STATE.STARTED) {
      // Refused before the head is written, so a 500 can still go out instead.
      if (chunk.length > 0 && forbidsContent(this.status)) this.#refuseBody();
      this.#writeHead(true, 0);
    }
    this.#writeBody(chunk);
    if (this.#host.writeBlocked) yield* this.#host.backpressure();
    // A big chunk is sent uncopied: when the socket could not take all of it
    // at once, wait until it has, so the caller may refill the buffer.
    else if (typeof chunk !== "string" && !this.#headOnly && this.#host.out.holdsBytes(chunk.length)) yield* this.#host.backpressure(true);
  }

  /** Finishes the response (`start(200)` first if needed). */
  end(chunk?: string | Uint8Array): void {
    if (this.state === RESPONSE_STATE.ENDED) throw stateError("end() called twice");
    if (this.state === RESPONSE_STATE.IDLE) this.start(200);
    if (this.state === RESPONSE_STATE.STARTED) {
      const length = chunk === undefined ? 0 : chunkLength(chunk);
      if (length > 0 && forbidsContent(this.status)) this.#refuseBody();
      this.#writeHead(false, length);
      if (chunk !== undefined) this.#writeBody(chunk);
    } else {
      if (chunk !== undefined) this.#writeBody(chunk);
      if (this.#framing === FRAMING.CHUNKED && !this.#headOnly) this.#host.out.latin1(LAST_CHUNK);
      else if (this.#framing === FRAMING.LENGTH && this.#remaining > 0 && !this.#headOnly) {
        this.state = RESPONSE_STATE.ENDED;
        throw new HttpError("HTTP_ERR_CONTENT_LENGTH_MISMATCH", `response ended ${this.#remaining} bytes short of its Content-Length`);
      }
    }
    this.state = RESPONSE_STATE.ENDED;
  }

  /** @internal writes a prepared response returned by the handler */
  sendPrepared(prepared: Prepared): void {
    if (this.state !== RESPONSE_STATE.IDLE) throw stateError("a handler returned a prepared response after starting its own");
    const mode = this.#host.connectionMode(this.#req, prepared.wantsClose);
    prepared.writeTo(this.#host.out, mode, this.#headOnly);
    this.status = prepared.status;
    this.#prepared = prepared;
    this.state = RESPONSE_STATE.ENDED;
  }

  protected override sentBodyBytes(): number {
    const p = this.#prepared;
    if (p === null) return this.bodyBytes;
    return this.#headOnly || isBodiless(p.status) ? 0 : p.byteLength;
  }

  #writeHead(streaming: boolean, length: number): void {
    const fields = this.#fields;
    let framing: number;
    if (isBodiless(this.status)) framing = FRAMING.NONE;
    else if (fields.contentLength >= 0) {
      // A response to HEAD may declare the length its GET would have (RFC 9110 §9.3.2).
      if (!streaming && length !== fields.contentLength && !(this.#headOnly && length === 0)) {
        throw new HttpError("HTTP_ERR_INVALID_RESPONSE", `end() with ${length} bytes but Content-Length is ${fields.contentLength}`);
      }
      framing = FRAMING.LENGTH;
      this.#remaining = fields.contentLength;
    } else if (!streaming) {
      framing = FRAMING.LENGTH;
      this.#remaining = length;
    } else if (this.#req.head.versionMinor === 1) framing = FRAMING.CHUNKED;
    else framing = FRAMING.CLOSE; // HTTP/1.0 has no chunked coding (RFC 9112 §6.1)
    const mode = this.#host.connectionMode(this.#req, fields.close || framing === FRAMING.CLOSE);
    this.#host.out.latin1(buildHead(this.status, fields, framing, this.#remaining, mode));
    this.#framing = framing;
    this.state = RESPONSE_STATE.STREAMING;
  }

  /** A body for a status that has none (204, 205, 304): refused. */
  #refuseBody(): never {
    throw bodyRefused(this.status);
  }

  #writeBody(chunk: string | Uint8Array): void {
    const n = chunkLength(chunk);
    if (n === 0) return;
    const framing = this.#framing;
    if (forbidsContent(this.status)) this.#refuseBody();
    if (framing === FRAMING.LENGTH) {
      if (n > this.#remaining) {
        throw new HttpError("HTTP_ERR_CONTENT_LENGTH_MISMATCH", `response body exceeds its Content-Length by ${n - this.#remaining} bytes`);
      }
      this.#remaining -= n;
    }
    if (this.#headOnly) return; // HEAD: same fields, no body (RFC 9110 §9.3.2)
    this.bodyBytes += n;
    const out = this.#host.out;
    if (framing === FRAMING.CHUNKED) out.latin1(`${n.toString(16)}\r\n`);
    if (typeof chunk === "string") out.utf8(chunk);
    else out.bytes(chunk);
    if (framing === FRAMING.CHUNKED) out.latin1("\r\n");
  }
}
