/**
 * Requests: {@link BaseRequest} (what every implementation of the `Request`
 * contract shares: target splitting, `readAll`/`text`/`json` on top of
 * `read`) and {@link ServerRequest}, the Skein server's request backed by a
 * parsed llhttp head and body bytes fed by the connection.
 *
 * @module
 */
import type { Operation } from "@skein/core";
import type { ForwardedClient, HeadersView, ReadAllOptions, Request, Takeover } from "./app.js";
import { HttpError } from "./errors.js";
import { RequestHeaders } from "./headers.js";
import type { MessageHead } from "./llhttp/head.js";

const EMPTY = Buffer.alloc(0);
const EMPTY_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;
let lastTarget = "";
let lastPath = "";
let lastQuery = "";

/** @internal the error for a body read once the body is gone (both servers throw it) */
export function bodyUnavailable(): HttpError {
  return new HttpError("HTTP_ERR_BODY_UNAVAILABLE", "the request body is no longer available (response finished or connection taken over)");
}

// ServerRequest body states (see closeBody).
const BODY_OPEN = 0;
const BODY_CLOSED = 1;
const BODY_DROPPED = 2;

/**
 * Shared parts of `Request` implementations.
 *
 * @example
 * class MyRequest extends BaseRequest { ... implement read(), takeover(), the getters and the peer facts ... }
 */
export abstract class BaseRequest implements Request {
  #path: string | undefined;
  #query = "";
  #params: URLSearchParams | null = null;
  /** Route parameters set by the router (`/users/:id` → `{ id }`). */
  params: Record<string, string> = EMPTY_PARAMS;
  /** The client a trusted proxy named (set by `proxyHeaders`); the getters below report it. */
  forwarded: ForwardedClient | null = null;

  /** The client's IP address: the socket's peer, or the client a trusted proxy named. */
  get remoteAddress(): string | undefined {
    const f = this.forwarded;
    return f === null ? this.peerAddress : f.remoteAddress;
  }

  /** The client's port (`undefined` when a proxy named the client). */
  get remotePort(): number | undefined {
    const f = this.forwarded;
    return f === null ? this.peerPort : f.remotePort;
  }

  /** True over TLS, or when a trusted proxy says the client used https. */
  get secure(): boolean {
    const f = this.forwarded;
    return f === null ? this.peerSecure : f.secure;
  }

  abstract readonly method: string;
  abstract readonly target: string;
  abstract readonly httpVersion: string;
  abstract readonly headers: HeadersView;
  abstract readonly upgrade: boolean;
  abstract readonly contentLength: number;
  abstract readonly localAddress: string | undefined;
  abstract readonly localPort: number | undefined;
  /** True when the connection came in on a Unix socket. */
  abstract readonly unixSocket: boolean;
  /** The connection's peer address, as the socket reports it (before any proxy). */
  protected abstract readonly peerAddress: string | undefined;
  /** The connection's peer port, as the socket reports it. */
  protected abstract readonly peerPort: number | undefined;
  /** True when the connection itself is TLS. */
  protected abstract readonly peerSecure: boolean;
  abstract read(): Operation<Buffer>;
  abstract takeover(): Operation<Takeover>;

  /** The path part of the target, still percent-encoded (`/a/b`). */
  get path(): string {
    if (this.#path === undefined) this.#splitTarget();
    return this.#path!;
  }

  /** The query part of the target without `?`, still encoded ("" if none). */
  get query(): string {
    if (this.#path === undefined) this.#splitTarget();
    return this.#query;
  }

  /** The query parsed (decoded on first access). */
  get searchParams(): URLSearchParams {
    return (this.#params ??= new URLSearchParams(this.query));
  }

  /**
   * The whole body in one buffer. Throws `HTTP_ERR_BODY_TOO_LARGE` (a 413
   * if it reaches the server) past `maxBytes` (default 1 MiB) — before
   * reading anything when Content-Length already says so.
   */
  *readAll(options: ReadAllOptions = {}): Generator<unknown, Buffer, any> {
    const max = options.maxBytes ?? 1024 * 1024;
    if (this.contentLength > max) throw new HttpError("HTTP_ERR_BODY_TOO_LARGE", `request body of ${this.contentLength} bytes exceeds ${max}`);
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = yield* this.read();
      if (chunk.length === 0) break;
      total += chunk.length;
      if (total > max) throw new HttpError("HTTP_ERR_BODY_TOO_LARGE", `request body exceeds ${max} bytes`);
      parts.push(chunk);
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
  }

  /** The whole body decoded as UTF-8 (see {@link readAll} for limits). */
  *text(options: ReadAllOptions = {}): Generator<unknown, string, any> {
    return (yield* this.readAll(options)).toString("utf8");
  }

  /** The whole body parsed as JSON; invalid JSON is `HTTP_ERR_BAD_BODY` (a 400). */
  json<T = unknown>(options: ReadAllOptions = {}): Operation<T> {
    return this.#json(options) as Operation<T>;
  }

  *#json(options: ReadAllOptions): Generator<unknown, unknown, any> {
    const text = yield* this.text(options);
    try {
      return JSON.parse(text) as unknown;
    } catch (e) {
      throw new HttpError("HTTP_ERR_BAD_BODY", "request body is not valid JSON", { cause: e });
    }
  }

  #splitTarget(): void {
    const t = this.target;
    // Targets repeat (the parser hands out the same string for the same
    // bytes): reuse the last split.
    if (t === lastTarget) {
      this.#path = lastPath;
      this.#query = lastQuery;
      return;
    }
    // absolute-form (RFC 9112 §3.2.2): the path starts after the authority,
    // and path and query are taken exactly as sent, as for origin-form.
    // (WHATWG URL parsing would resolve `..` and `%2e%2e` and turn `\` into
    // `/`: `http://a/public/%2e%2e/admin` must not reach the handler as
    // `/admin` when `/public/%2e%2e/admin` does not.)
    let start = 0;
    const scheme = t.charCodeAt(0) === 0x2f ? -1 : t.indexOf("://");
    if (scheme > 0) {
      start = scheme + 3;
      while (start < t.length && t.charCodeAt(start) !== 0x2f && t.charCodeAt(start) !== 0x3f) start++;
    }
    const q = t.indexOf("?", start);
    const path = q < 0 ? t.slice(start) : t.slice(start, q);
    this.#path = lastPath = path === "" ? "/" : path; // `http://a` and `http://a?x` have the path `/`
    this.#query = lastQuery = q < 0 ? "" : t.slice(q + 1);
    lastTarget = t;
  }
}

/**
 * The server side of a request: supplies connection facts and body bytes.
 * Implemented by the server's connection; an adapter (`toNodeListener`)
 * implements it over `node:http`.
 */
export interface RequestHost {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly secure: boolean;
  /** True for a connection accepted on a Unix socket. */
  readonly unixSocket: boolean;
  /** Suspends until `req` has body bytes, its end, or an error. */
  waitBody(req: Request): Operation<void>;
  /** `n` body bytes were handed to the handler (look-ahead accounting). */
  bodyConsumed(n: number): void;
  /** Called before the first wait for body bytes: answers `Expect: 100-continue`. */
  willRead(req: Request): void;
  /** Hands the connection to the caller (see {@link Request.takeover}). */
  takeover(req: Request): Operation<Takeover>;
}

/**
 * The Skein server's request: a parsed head plus body bytes fed by the
 * connection's reader as they arrive.
 *
 * @example
 * function* app(req: Request, res: Response) {
 *   if (req.method === "POST" && req.path === "/echo") {
 *     const body = yield* req.readAll({ maxBytes: 1 << 20 });
 *     return res.bytes(200, body);
 *   }
 *   return res.text(200, `hello ${req.query}`);
 * }
 */
export class ServerRequest extends BaseRequest {
  /** The parsed head (offsets into the received bytes). */
  readonly head: MessageHead;
  /** True when the client sent `Expect: 100-continue` (RFC 9110 §10.1.1). */
  readonly expectContinue: boolean;
  #host: RequestHost;
  #headers: RequestHeaders | null = null;
  // Body state, fed by the connection.
  #chunks: Buffer[] | null = null; // allocated with the first body chunk
  #chunkHead = 0;
  #buffered = 0;
  #complete = false;
  #error: HttpError | null = null;
  // BODY_OPEN, then BODY_CLOSED or BODY_DROPPED (closed with unread bytes thrown away).
  #closed = BODY_OPEN;

  constructor(head: MessageHead, host: RequestHost, expectContinue: boolean) {
    super();
    this.head = head;
    this.#host = host;
    this.expectContinue = expectContinue;
  }

  /** The method token, e.g. `GET`. */
  get method(): string {
    return this.head.methodName;
  }

  /** The request target exactly as sent (`/a/b?x=1`, or absolute-form). */
  get target(): string {
    return this.head.target;
  }

  /** `"1.1"` or `"1.0"`. */
  get httpVersion(): string {
    return this.head.versionMinor === 1 ? "1.1" : "1.0";
  }

  /** Case-insensitive header fields, decoded when asked for. */
  get headers(): HeadersView {
    return (this.#headers ??= new RequestHeaders(this.head));
  }

  /** True for an Upgrade request (e.g. WebSocket) or CONNECT: see {@link takeover}. */
  get upgrade(): boolean {
    return this.head.upgrade;
  }

  /** Declared Content-Length, or -1 (none, or chunked). */
  get contentLength(): number {
    return this.head.contentLength;
  }

  protected get peerAddress(): string | undefined {
    return this.#host.remoteAddress;
  }

  protected get peerPort(): number | undefined {
    return this.#host.remotePort;
  }

  protected get peerSecure(): boolean {
    return this.#host.secure;
  }

  /** True when the connection came in on a Unix socket. */
  get unixSocket(): boolean {
    return this.#host.unixSocket;
  }

  /** The server address the request came in on. */
  get localAddress(): string | undefined {
    return this.#host.localAddress;
  }

  /** The server port the request came in on. */
  get localPort(): number | undefined {
    return this.#host.localPort;
  }

  /** True once the whole body has arrived. */
  get bodyComplete(): boolean {
    return this.#complete;
  }

  /** True once the response is done and later body bytes are dropped. */
  get bodyClosed(): boolean {
    return this.#closed !== BODY_OPEN;
  }

  /**
   * The next piece of the body, suspending until it arrives; an empty
   * buffer at the end. Throws the body's error (`HTTP_ERR_BODY_TOO_LARGE`,
   * `HTTP_ERR_PARSE`, `HTTP_ERR_REQUEST_TIMEOUT`…). The buffer is a view of
   * received bytes: copy it if you keep it beyond the request.
   */
  *read(): Generator<unknown, Buffer, any> {
    for (;;) {
      if (this.#buffered > 0) return this.#take();
      if (this.#error !== null) throw this.#error;
      // A body read to its end stays ended; one whose rest was dropped is not "".
      if (this.#complete && this.#closed !== BODY_DROPPED) return EMPTY;
      if (this.#closed !== BODY_OPEN) throw bodyUnavailable();
      this.#host.willRead(this);
      yield* this.#host.waitBody(this);
    }
  }

  /**
   * Takes the connection over for another protocol (Upgrade, CONNECT):
   * earlier pipelined responses are flushed, Skein lets go of the socket and
   * returns it with the bytes that followed the head. The handler then owns
   * the socket (it writes the `101 Switching Protocols` itself) and the
   * server no longer closes it; it stays counted until the handler returns.
   * Only for requests with {@link upgrade} set.
   */
  takeover(): Operation<Takeover> {
    if (!this.head.upgrade) throw new HttpError("HTTP_ERR_RESPONSE_STATE", "takeover() needs an Upgrade or CONNECT request");
    return this.#host.takeover(this);
  }

  // ---- fed by the connection ---------------------------------------------

  #take(): Buffer {
    const chunks = this.#chunks!;
    const chunk = chunks[this.#chunkHead]!;
    chunks[this.#chunkHead++] = EMPTY;
    if (this.#chunkHead === chunks.length) {
      chunks.length = 0;
      this.#chunkHead = 0;
    }
    this.#buffered -= chunk.length;
    this.#host.bodyConsumed(chunk.length);
    return chunk;
  }

  /** @internal the connection is gone (handed off after a takeover): answer from `host` */
  detachHost(host: RequestHost): void {
    this.#host = host;
  }

  /** @internal a piece of body arrived */
  pushBody(chunk: Buffer): void {
    if (this.#closed !== BODY_OPEN) return;
    (this.#chunks ??= []).push(chunk);
    this.#buffered += chunk.length;
  }

  /** @internal the body ended */
  endBody(): void {
    this.#complete = true;
  }

  /** @internal the body cannot be completed */
  failBody(error: HttpError): void {
    if (!this.#complete) this.#error ??= error;
  }

  /** @internal the response is done: drop unread body bytes from now on; returns how many were buffered */
  closeBody(): number {
    const dropped = this.#buffered;
    this.#closed = dropped > 0 ? BODY_DROPPED : BODY_CLOSED;
    this.#chunks = null;
    this.#chunkHead = 0;
    this.#buffered = 0;
    return dropped;
  }
}
