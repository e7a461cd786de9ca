/**
 * `HttpParser`: a pure state machine around one llhttp parser. Bytes in
 * (`execute`), events out (`ParserEvents`), no socket. It can be fed one byte
 * at a time and produces the same events as when fed the whole message.
 *
 * Heads are kept as offsets: when a head arrives in one chunk its spans point
 * into that chunk (zero-copy); when it spans chunks, the pieces seen so far
 * are "spilled" into a private buffer at the end of each `execute` and later
 * pieces are appended there, so a span continued across reads stays
 * contiguous.
 *
 * @module
 */
import { HttpError, HttpParseError, type HttpErrorCode } from "../errors.js";
import {
  LLHTTP_ERROR, LLHTTP_SKIP_BODY, LLHTTP_TYPE, llhttpErrorName, type ParserKind,
} from "./constants.js";
import { PARSER_STATE, type ParserEvents, type ParserLimits, type ParserState } from "./events.js";
import {
  classifyField, FIELD_CONTENT_LENGTH, FIELD_EXPECT, FIELD_HOST, FIELD_TRANSFER_ENCODING,
  HEAD_HAS_HOST, HEAD_HAS_TRANSFER_ENCODING, HEAD_MULTIPLE_HOST, HEAD_MULTIPLE_TRANSFER_ENCODING, MessageHead, parseDigits,
} from "./head.js";
import { Spill } from "./spill.js";
import { copyIn, headLayout, llhttp, execute as executeWasm, finish as finishWasm, readCString, refreshHeap, wasmHeap, type WasmSink } from "./wasm.js";

/** Where llhttp keeps method and version in its struct (see `headLayout`). */
const LAYOUT = headLayout();

const SPAN_NONE = 0;
const SPAN_TARGET = 1;
const SPAN_FIELD = 2;
const SPAN_VALUE = 3;
/** Bytes after the last header value that end a head (CRLF CRLF). */
const HEAD_TERMINATOR_BYTES = 4;
/** Most bytes of plain chunk framing per chunk: CRLF, 16 hex digits, CRLF, and slack. */
const PLAIN_FRAMING_BYTES = 24;
const EMPTY = Buffer.alloc(0);

// Frees the llhttp struct of a parser that was dropped without destroy().
const leaks = new FinalizationRegistry<number>((ptr) => llhttp().llhttp_free(ptr));

/**
 * An incremental HTTP/1.x parser for requests or responses.
 *
 * @example
 * const parser = new HttpParser("request", {
 *   onHead(head) { console.log(head.methodName, head.target); },
 *   onBody(chunk) {},
 *   onMessageComplete() {},
 * });
 * const used = parser.execute(Buffer.from("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
 */
export class HttpParser implements WasmSink {
  /** What this parser reads. */
  readonly kind: ParserKind;
  /** One of {@link PARSER_STATE}. */
  state: ParserState = PARSER_STATE.READY;
  #ptr: number;
  #events: ParserEvents;
  #limits: ParserLimits;
  #error: HttpError | null = null;
  // The chunk being executed and its address in wasm memory.
  #chunk: Buffer = EMPTY;
  #base = 0;
  // The message being parsed, and its head being assembled.
  #inMessage = false;
  #inHead = false;
  // Scratch space reused for every head (a plain array of small integers:
  // slicing one out per head is cheaper than allocating a typed array).
  #spans: number[] = [0, 0];
  #n = 2;
  #headerCount = 0;
  #last = SPAN_NONE;
  #flags = 0;
  #contentLengthIndex = -1;
  #expectIndex = -1;
  #hostIndex = -1;
  #transferEncodingIndex = -1;
  /** Where a head that spans reads is copied, piece by piece (null: the head is in the current chunk). */
  #spill: Spill | null = null;
  // Head byte accounting: bytes of earlier chunks, and the offsets in this one.
  #headBytes = 0;
  #mark = 0;
  #pos = 0;
  #bodyBytes = 0;
  #trailerBytes = 0;
  // Chunk framing accounting (see #countFraming): where in this chunk the
  // bytes not yet attributed begin, the framing bytes seen, and body spans.
  #bodyMark = 0;
  #framing = 0;
  #bodySpans = 0;

  constructor(kind: ParserKind, events: ParserEvents, limits: Partial<ParserLimits> = {}) {
    this.kind = kind;
    this.#events = events;
    this.#limits = { maxHeadBytes: 0, maxHeaderCount: 0, maxBodyBytes: 0, ...limits };
    this.#ptr = llhttp().llhttp_alloc(kind === "request" ? LLHTTP_TYPE.REQUEST : LLHTTP_TYPE.RESPONSE);
    refreshHeap(); // llhttp_alloc may have grown wasm memory
    leaks.register(this, this.#ptr, this);
  }

  /**
   * Parses `chunk` and returns how many of its bytes were consumed: all of
   * them unless the parser paused, upgraded or closed, in which case the
   * rest (`chunk.subarray(consumed)`) is the caller's — e.g. the first bytes
   * of a WebSocket stream. In the CLOSED state everything counts as consumed:
   * bytes after a `Connection: close` message are discarded. Throws {@link HttpError} when the input is bad.
   */
  execute(chunk: Buffer): number {
    if (this.state !== PARSER_STATE.READY) return this.#notReady();
    if (chunk.length === 0) return 0;
    const ll = llhttp();
    this.#chunk = chunk;
    this.#base = copyIn(chunk);
    this.#pos = 0;
    this.#mark = 0;
    const ret = executeWasm(this, this.#ptr, this.#base, chunk.length);
    if (this.#error !== null) return this.#fail(this.#error);
    if (ret === LLHTTP_ERROR.OK) {
      if (this.#inHead) this.#endChunkInHead(chunk.length);
      else if (this.#inMessage) this.#endChunkInBody(chunk.length);
      this.#chunk = EMPTY;
      return chunk.length;
    }
    this.#chunk = EMPTY;
    const consumed = ll.llhttp_get_error_pos(this.#ptr) - this.#base;
    if (ret === LLHTTP_ERROR.PAUSED) this.state = PARSER_STATE.PAUSED;
    else if (ret === LLHTTP_ERROR.PAUSED_UPGRADE) this.state = PARSER_STATE.UPGRADED;
    else if (ret === LLHTTP_ERROR.CLOSED_CONNECTION) {
      // Bytes after a `Connection: close` message are discarded, not returned.
      this.state = PARSER_STATE.CLOSED;
      return chunk.length;
    } else return this.#fail(this.#parseError(ret, consumed));
    return consumed;
  }

  /**
   * Tells the parser the stream ended. Completes a response delimited by
   * connection close; throws `HTTP_ERR_UNEXPECTED_EOF` when a message was
   * cut short.
   */
  finish(): void {
    if (this.state !== PARSER_STATE.READY) return;
    const ret = finishWasm(this, this.#ptr);
    if (this.#error !== null) this.#fail(this.#error);
    else if (ret === LLHTTP_ERROR.PAUSED) this.state = PARSER_STATE.PAUSED;
    else if (ret !== LLHTTP_ERROR.OK) this.#fail(this.#parseError(ret, 0));
  }

  /** Leaves the PAUSED state; the caller then executes the unconsumed bytes. */
  resume(): void {
    if (this.state !== PARSER_STATE.PAUSED) return;
    llhttp().llhttp_resume(this.#ptr);
    this.state = PARSER_STATE.READY;
  }

  /**
   * Makes a READY parser between messages as good as new, for other events
   * and limits (parsers are pooled: see `acquireParser`).
   */
  reuse(events: ParserEvents, limits: Partial<ParserLimits> = {}): void {
    if (this.#ptr === 0) throw new TypeError("HttpParser: reuse() after destroy()");
    llhttp().llhttp_reset(this.#ptr);
    this.#events = events;
    this.#limits = { maxHeadBytes: 0, maxHeaderCount: 0, maxBodyBytes: 0, ...limits };
    this.state = PARSER_STATE.READY;
    this.#error = null;
    this.#chunk = EMPTY;
    this.#inHead = this.#inMessage = false;
    this.#spill = null;
    this.#pos = this.#mark = this.#headBytes = 0;
  }

  /** True while a message head has started but not completed. */
  get inHead(): boolean {
    return this.#inHead;
  }

  /** True when no message is in progress. */
  get betweenMessages(): boolean {
    return !this.#inMessage && this.state === PARSER_STATE.READY;
  }

  /**
   * True when `reuse` may make it as good as new: between messages, or
   * stopped after a complete Upgrade/CONNECT head (the connection changed
   * protocols; llhttp's reset clears that).
   */
  get reusable(): boolean {
    return !this.#inMessage && (this.state === PARSER_STATE.READY || this.state === PARSER_STATE.UPGRADED) && this.#ptr !== 0;
  }

  /** Frees the wasm-side parser. The parser must not be used afterwards. */
  destroy(): void {
    if (this.#ptr === 0) return;
    leaks.unregister(this);
    llhttp().llhttp_free(this.#ptr);
    this.#ptr = 0;
    this.state = PARSER_STATE.FAILED;
    this.#spill = null;
  }

  // ---- wasm callbacks (WasmSink) -------------------------------------

  /** @internal */
  onMessageBegin(): number {
    this.#inMessage = true;
    this.#inHead = true;
    this.#n = 2;
    this.#spans[0] = 0;
    this.#spans[1] = 0;
    this.#headerCount = 0;
    this.#last = SPAN_NONE;
    this.#flags = 0;
    this.#contentLengthIndex = -1;
    this.#expectIndex = -1;
    this.#hostIndex = -1;
    this.#transferEncodingIndex = -1;
    this.#headBytes = 0;
    this.#mark = this.#pos;
    this.#bodyBytes = 0;
    this.#trailerBytes = 0;
    this.#framing = 0;
    this.#bodySpans = 0;
    return 0;
  }

  /** @internal */
  onUrl(at: number, len: number): number {
    return this.#span(SPAN_TARGET, at, len);
  }

  /** @internal */
  onStatus(at: number, len: number): number {
    return this.#span(SPAN_TARGET, at, len);
  }

  /** @internal */
  onHeaderField(at: number, len: number): number {
    return this.#span(SPAN_FIELD, at, len);
  }

  /** @internal */
  onHeaderValue(at: number, len: number): number {
    return this.#span(SPAN_VALUE, at, len);
  }

  /** @internal */
  onHeadersComplete(status: number, upgrade: number, keepAlive: number): number {
    const limits = this.#limits;
    const ll = llhttp();
    this.#headBytes += this.#pos - this.#mark + HEAD_TERMINATOR_BYTES;
    if (limits.maxHeadBytes > 0 && this.#headBytes > limits.maxHeadBytes) {
      return this.#reject("HTTP_ERR_HEADERS_TOO_LARGE", `request head exceeds ${limits.maxHeadBytes} bytes`);
    }
    let method: number;
    let major: number;
    let minor: number;
    const at = LAYOUT;
    if (at >= 0) {
      const mem = wasmHeap();
      method = mem[this.#ptr + at]!;
      major = mem[this.#ptr + at + 1]!;
      minor = mem[this.#ptr + at + 2]!;
    } else {
      method = ll.llhttp_get_method(this.#ptr);
      major = ll.llhttp_get_http_major(this.#ptr);
      minor = ll.llhttp_get_http_minor(this.#ptr);
    }
    if (this.kind === "request" && !(major === 1 && (minor === 0 || minor === 1))) {
      return this.#reject("HTTP_ERR_VERSION_NOT_SUPPORTED", `HTTP/${major}.${minor} is not supported`);
    }
    const buf = this.#spill !== null ? this.#spill.buf : this.#chunk;
    const cl = this.#contentLengthIndex;
    // llhttp has validated the value: digits only.
    const contentLength = cl < 0 ? -1 : parseDigits(buf, this.#spans[4 + 4 * cl]!, this.#spans[5 + 4 * cl]!);
    if (limits.maxBodyBytes > 0 && contentLength > limits.maxBodyBytes) {
      return this.#reject("HTTP_ERR_BODY_TOO_LARGE", `Content-Length ${contentLength} exceeds ${limits.maxBodyBytes}`);
    }
    const head = new MessageHead(
      buf, this.#spans.slice(0, this.#n), this.#headerCount,
      this.kind === "request" ? method : -1, status, major, minor,
      keepAlive === 1, upgrade === 1, contentLength, this.#expectIndex, this.#flags,
      this.#hostIndex, this.#transferEncodingIndex,
    );
    // A spill buffer now belongs to the head; the next one gets a new one.
    this.#spill = null;
    this.#inHead = false;
    this.#bodyMark = Math.min(this.#pos + HEAD_TERMINATOR_BYTES, this.#chunk.length);
    try {
      return this.#events.onHead(head) === true ? LLHTTP_SKIP_BODY : 0;
    } catch (err) {
      return this.#sinkThrew(err);
    }
  }

  /** @internal */
  onBody(at: number, len: number): number {
    const off = at - this.#base;
    this.#pos = off + len;
    this.#bodyBytes += len;
    const max = this.#limits.maxBodyBytes;
    if (max > 0 && this.#bodyBytes > max) {
      return this.#reject("HTTP_ERR_BODY_TOO_LARGE", `body exceeds ${max} bytes`);
    }
    this.#bodySpans++;
    if (!this.#countFraming(off)) return LLHTTP_ERROR.USER;
    this.#bodyMark = off + len;
    try {
      this.#events.onBody(this.#chunk.subarray(off, off + len));
    } catch (err) {
      return this.#sinkThrew(err);
    }
    return 0;
  }

  /** @internal */
  onMessageComplete(): number {
    this.#inMessage = false;
    this.#inHead = false;
    try {
      return this.#events.onMessageComplete() === true ? LLHTTP_ERROR.PAUSED : 0;
    } catch (err) {
      return this.#sinkThrew(err);
    }
  }

  // ---- internals -----------------------------------------------------

  /** Records one span reported by llhttp (possibly the continuation of the previous one). */
  #span(kind: number, at: number, len: number): number {
    const off = at - this.#base;
    this.#pos = off + len;
    if (!this.#inHead) return this.#trailer(len);
    const limits = this.#limits;
    if (limits.maxHeadBytes > 0 && this.#headBytes + this.#pos - this.#mark > limits.maxHeadBytes) {
      return this.#reject("HTTP_ERR_HEADERS_TOO_LARGE", `request head exceeds ${limits.maxHeadBytes} bytes`);
    }
    // llhttp reports a span that is cut by the end of the input, then the rest
    // of it from the next input: two reports of one kind in a row are one span.
    // That only happens across executes, i.e. after a spill, where appended
    // pieces are contiguous.
    const start = this.#spill !== null ? this.#spill.append(this.#chunk, off, len) : off;
    const spans = this.#spans;
    if (kind === this.#last) {
      // The length slot of the span being continued: target, field name, value.
      spans[kind === SPAN_TARGET ? 1 : kind === SPAN_FIELD ? this.#n - 3 : this.#n - 1]! += len;
      return 0;
    }
    this.#last = kind;
    if (kind === SPAN_TARGET) {
      spans[0] = start;
      spans[1] = len;
      return 0;
    }
    if (kind === SPAN_FIELD) {
      if (limits.maxHeaderCount > 0 && this.#headerCount >= limits.maxHeaderCount) {
        return this.#reject("HTTP_ERR_TOO_MANY_HEADERS", `more than ${limits.maxHeaderCount} header fields`);
      }
      const n = this.#n;
      spans[n] = start;
      spans[n + 1] = len;
      spans[n + 2] = start + len;
      spans[n + 3] = 0;
      this.#n = n + 4;
      this.#headerCount++;
      return 0;
    }
    // First piece of a value: the field name before it is complete.
    spans[this.#n - 2] = start;
    spans[this.#n - 1] = len;
    this.#classify(this.#headerCount - 1);
    return 0;
  }

  /** Notes the header fields the server needs without building strings. */
  #classify(i: number): void {
    const buf = this.#spill !== null ? this.#spill.buf : this.#chunk;
    switch (classifyField(buf, this.#spans[2 + 4 * i]!, this.#spans[3 + 4 * i]!)) {
      case FIELD_HOST:
        this.#flags |= this.#flags & HEAD_HAS_HOST ? HEAD_MULTIPLE_HOST : HEAD_HAS_HOST;
        if (this.#hostIndex < 0) this.#hostIndex = i;
        break;
      case FIELD_EXPECT:
        if (this.#expectIndex < 0) this.#expectIndex = i;
        break;
      case FIELD_CONTENT_LENGTH:
        this.#contentLengthIndex = i;
        break;
      case FIELD_TRANSFER_ENCODING:
        this.#flags |= this.#flags & HEAD_HAS_TRANSFER_ENCODING ? HEAD_MULTIPLE_TRANSFER_ENCODING : HEAD_HAS_TRANSFER_ENCODING;
        if (this.#transferEncodingIndex < 0) this.#transferEncodingIndex = i;
        break;
    }
  }

  /** Trailer fields (after a chunked body) are skipped but count against maxHeadBytes. */
  #trailer(len: number): number {
    this.#trailerBytes += len;
    const max = this.#limits.maxHeadBytes;
    if (max > 0 && this.#trailerBytes > max) {
      return this.#reject("HTTP_ERR_HEADERS_TOO_LARGE", `trailer section exceeds ${max} bytes`);
    }
    return 0;
  }

  /**
   * Chunk extensions (`5;name=value`) reach no llhttp callback, so they are
   * counted here: every byte of the body phase that is not body is framing
   * (chunk-size lines, CRLFs, extensions, trailers). Plain framing is at
   * most ~24 bytes per chunk; beyond that, the bytes (trailers aside) count
   * against `maxHeadBytes`, like a head. Without this bound one request could
   * stream gigabytes of extension bytes (Node's CVE-2024-22019). Counts the
   * bytes of this chunk from the last mark up to `upTo`; false when over.
   */
  #countFraming(upTo: number): boolean {
    this.#framing += upTo - this.#bodyMark;
    const max = this.#limits.maxHeadBytes;
    if (max > 0 && this.#framing - this.#trailerBytes > max + PLAIN_FRAMING_BYTES * (this.#bodySpans + 1)) {
      this.#error ??= new HttpError("HTTP_ERR_CHUNK_EXTENSIONS_TOO_LARGE", `chunk extensions exceed ${max} bytes`);
      return false;
    }
    return true;
  }

  /** The chunk ended inside a body: count its trailing framing bytes. */
  #endChunkInBody(chunkLength: number): void {
    if (!this.#countFraming(chunkLength)) this.#fail(this.#error!);
    this.#bodyMark = 0;
  }

  /** The chunk ended inside a head: count its bytes and move the spans out of it. */
  #endChunkInHead(chunkLength: number): void {
    this.#headBytes += chunkLength - this.#mark;
    const max = this.#limits.maxHeadBytes;
    if (max > 0 && this.#headBytes > max) {
      this.#fail(new HttpError("HTTP_ERR_HEADERS_TOO_LARGE", `request head exceeds ${max} bytes`));
    }
    if (this.#spill !== null) return;
    const spans = this.#spans;
    let total = 0;
    for (let k = 1; k < this.#n; k += 2) total += spans[k]!;
    const spill = (this.#spill = new Spill(total * 2));
    for (let k = 0; k < this.#n; k += 2) spans[k] = spill.append(this.#chunk, spans[k]!, spans[k + 1]!);
  }

  /** Stops llhttp from a callback with our own error. */
  #reject(code: HttpErrorCode, message: string): number {
    this.#error ??= new HttpError(code, message);
    return LLHTTP_ERROR.USER;
  }

  #sinkThrew(err: unknown): number {
    this.#error ??= err instanceof HttpError ? err : new HttpError("HTTP_ERR_HANDLER", "parser event handler threw", { cause: err });
    return LLHTTP_ERROR.USER;
  }

  #parseError(errno: number, offset: number): HttpParseError {
    const ll = llhttp();
    const reason = readCString(ll.llhttp_get_error_reason(this.#ptr));
    const name = llhttpErrorName(errno);
    let code: HttpErrorCode = "HTTP_ERR_PARSE";
    if (name === "HPE_INVALID_EOF_STATE") code = "HTTP_ERR_UNEXPECTED_EOF";
    else if (errno === LLHTTP_ERROR.INVALID_VERSION && this.kind === "request") {
      // llhttp stores the digits before rejecting them: a well-formed but
      // unsupported version (HTTP/1.2, HTTP/3.0) is a 505, garbage is a 400.
      const major = ll.llhttp_get_http_major(this.#ptr);
      const minor = ll.llhttp_get_http_minor(this.#ptr);
      if (!(major === 1 && (minor === 0 || minor === 1))) code = "HTTP_ERR_VERSION_NOT_SUPPORTED";
    }
    return new HttpParseError(code, errno, name, reason, offset);
  }

  #fail(err: HttpError): never {
    this.state = PARSER_STATE.FAILED;
    this.#error = err;
    this.#chunk = EMPTY;
    throw err;
  }

  #notReady(): number {
    if (this.state === PARSER_STATE.FAILED && this.#error !== null) throw this.#error;
    if (this.state === PARSER_STATE.PAUSED) throw new Error("HttpParser: execute() while paused; call resume() first");
    return 0;
  }
}
