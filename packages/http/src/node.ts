/**
 * `toNodeListener(app)`: runs a Skein app unchanged on `node:http` or
 * `node:https` — the WSGI promise (one app, any server), and the baseline
 * of the benchmarks. Each request runs as a task on one Skein kernel; a
 * client that disconnects cancels its task.
 *
 * @module
 */
import { ServerResponse as NodeServerResponse, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import type { Socket } from "node:net";
import type { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { action, isCancelled, Kernel, type Operation } from "@skein/core";
import { RESPONSE_STATE, type App, type HeadersView, type Response, type ResponseState, type Takeover } from "./app.js";
import { HttpError, isClientError } from "./errors.js";
import { handlerOperation } from "./drive.js";
import { headOnlyError, Prepared } from "./prepared.js";
import { bodyRefused, chunkLength, ResponseBase, type FinishLogger } from "./response-outcome.js";
import { BaseRequest, bodyUnavailable } from "./request.js";
import { fieldsObject } from "./headers.js";
import { checkContentLengthAllowed, NO_FIELDS, serializeFields, type HeaderInit, type SerializedFields } from "./response-head.js";
import { forbidsContent, isBodiless, isValidStatus, statusText } from "./status.js";
import { TakenOver, type ShutdownHook, type TakeoverHost } from "./takeover.js";

const EMPTY = Buffer.alloc(0);
const NON_ASCII = /[\x80-\xff]/;

/** What the upgrade listener captured for `takeover()`. */
interface UpgradeInfo {
  socket: Duplex;
  head: Buffer;
  host: TakeoverHost;
}

/** `HeadersView` over Node's `rawHeaders`. */
class NodeHeaders implements HeadersView {
  readonly #raw: string[];
  constructor(raw: string[]) {
    this.#raw = raw;
  }
  get size(): number {
    return this.#raw.length / 2;
  }
  get(name: string): string | null {
    const values = this.getAll(name);
    return values.length === 0 ? null : values.join(", ");
  }
  getAll(name: string): string[] {
    const lower = name.toLowerCase();
    const out: string[] = [];
    for (let i = 0; i < this.#raw.length; i += 2) if (this.#raw[i]!.toLowerCase() === lower) out.push(this.#raw[i + 1]!);
    return out;
  }
  has(name: string): boolean {
    return this.getAll(name).length > 0;
  }
  *entries(): IterableIterator<[string, string]> {
    for (let i = 0; i < this.#raw.length; i += 2) yield [this.#raw[i]!.toLowerCase(), this.#raw[i + 1]!];
  }
  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }
  *values(): IterableIterator<string> {
    for (const [, v] of this.entries()) yield v;
  }
  forEach(fn: (value: string, name: string, headers: HeadersView) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
  raw(): [string, string][] {
    const out: [string, string][] = [];
    for (let i = 0; i < this.#raw.length; i += 2) out.push([this.#raw[i]!, this.#raw[i + 1]!]);
    return out;
  }
  toJSON(): Record<string, string> {
    return fieldsObject(this.entries());
  }
}

/** A `Request` over Node's `IncomingMessage`. */
class NodeRequest extends BaseRequest {
  readonly #req: IncomingMessage;
  readonly #upgrade: UpgradeInfo | null;
  #headers: NodeHeaders | null = null;
  /** What `takeover()` returned, once called. */
  taken: TakenOver | null = null;
  /** Set when the handler returned before reading the whole body: node:http discards the rest. */
  #dropped = false;

  constructor(req: IncomingMessage, upgrade: UpgradeInfo | null) {
    super();
    this.#req = req;
    this.#upgrade = upgrade;
  }
  get takenOver(): boolean {
    return this.taken !== null;
  }
  get method(): string {
    return this.#req.method ?? "GET";
  }
  get target(): string {
    return this.#req.url ?? "/";
  }
  get httpVersion(): string {
    return this.#req.httpVersion;
  }
  get headers(): HeadersView {
    return (this.#headers ??= new NodeHeaders(this.#req.rawHeaders));
  }
  get upgrade(): boolean {
    return this.#upgrade !== null;
  }
  get contentLength(): number {
    const v = this.#req.headers["content-length"];
    return v === undefined ? -1 : Number(v);
  }
  protected get peerAddress(): string | undefined {
    return this.#req.socket.remoteAddress;
  }
  protected get peerPort(): number | undefined {
    return this.#req.socket.remotePort;
  }
  get localAddress(): string | undefined {
    return this.#req.socket.localAddress;
  }
  get localPort(): number | undefined {
    return this.#req.socket.localPort;
  }
  protected get peerSecure(): boolean {
    return (this.#req.socket as { encrypted?: boolean }).encrypted === true;
  }
  get unixSocket(): boolean {
    // A net.Server listening on a path reports the path as its address.
    const server = (this.#req.socket as { server?: { address(): unknown } }).server;
    return typeof server?.address() === "string";
  }

  *read(): Generator<unknown, Buffer, any> {
    const req = this.#req;
    if (this.#dropped) throw bodyUnavailable();
    for (;;) {
      const chunk = req.read() as Buffer | null;
      if (chunk !== null) return chunk;
      if (req.readableEnded || req.complete) return EMPTY;
      if (req.destroyed) throw new HttpError("HTTP_ERR_UNEXPECTED_EOF", "connection closed in the middle of the request");
      yield* firstEvent("read(request body)", req, ["readable", "end", "close"]);
    }
  }

  /** @internal the handler returned: a body it did not read to the end is gone (as on the Skein server) */
  closeBody(): void {
    const req = this.#req;
    // A request without a body has nothing to drop, though node:http may not
    // have marked it complete yet (it does so a moment after 'request').
    const headers = req.headers;
    const bodiless = headers["transfer-encoding"] === undefined && (headers["content-length"] === undefined || headers["content-length"] === "0");
    this.#dropped = req.readableLength > 0 || !(bodiless || req.readableEnded || req.complete);
  }

  takeover(): Operation<Takeover> {
    const u = this.#upgrade;
    if (u === null || this.takenOver) throw new HttpError("HTTP_ERR_RESPONSE_STATE", "takeover() needs an Upgrade or CONNECT request (attach listener.upgrade to the server's 'upgrade' event)");
    const socket = u.socket as Socket;
    socket.pause();
    const result = new TakenOver(socket, u.head, u.host, this);
    // Hooks not handed off are dropped with the handler's task (see `handle`).
    this.taken = result;
    return action<Takeover>("takeover", (resolve) => resolve(result));
  }
}

/**
 * Waits for the first of `events` on `emitter` (or fails on `fails.event`).
 * The listeners go as soon as one fires: an action's teardown runs only when
 * the wait is cancelled, and body reads and backpressure waits happen once
 * per piece.
 */
function firstEvent(description: string, emitter: EventEmitter, events: readonly string[], fails?: { event: string; error: () => Error }): Operation<void> {
  return action<void>(description, (resolve, reject) => {
    const off = () => {
      for (const e of events) emitter.off(e, done);
      if (fails !== undefined) emitter.off(fails.event, failed);
    };
    const done = () => {
      off();
      resolve();
    };
    const failed = () => {
      off();
      reject(fails!.error());
    };
    for (const e of events) emitter.once(e, done);
    if (fails !== undefined) emitter.once(fails.event, failed);
    return off;
  });
}

/** A `Response` over Node's `ServerResponse`. */
class NodeResponse extends ResponseBase implements Response {
  state: ResponseState = RESPONSE_STATE.IDLE;
  status = 0;
  readonly #res: NodeServerResponse;
  readonly #head: boolean;
  readonly #logger: FinishLogger;
  #fields: SerializedFields = NO_FIELDS;
  #subscribed = false;
  /**
   * The head has bytes over 0x7f (obs-text, sent as latin1): node joins the
   * head with a first string chunk and encodes both as UTF-8, so string
   * chunks go as bytes.
   */
  #latin1Head = false;

  constructor(res: NodeServerResponse, method: string | undefined, logger: FinishLogger) {
    super();
    this.#logger = logger;
    // Node then throws when a body does not match its Content-Length, as the
    // native server does, instead of sending it and misframing what follows.
    res.strictContentLength = true;
    this.#res = res;
    this.#head = method === "HEAD";
  }
  get headersSent(): boolean {
    return this.#res.headersSent;
  }
  start(status: number, headers?: HeaderInit): void {
    if (this.state !== RESPONSE_STATE.IDLE) throw new HttpError("HTTP_ERR_RESPONSE_STATE", "start() called twice or after the response began");
    if (!isValidStatus(status) || status < 200) throw new HttpError("HTTP_ERR_INVALID_RESPONSE", `invalid status ${String(status)}`);
    this.#fields = serializeFields(headers);
    this.status = status;
    this.state = RESPONSE_STATE.STARTED;
  }
  *write(chunk: string | Uint8Array): Generator<unknown, void, any> {
    if (this.state === RESPONSE_STATE.ENDED) throw new HttpError("HTTP_ERR_RESPONSE_STATE", "write() after end()");
    if (this.state === RESPONSE_STATE.IDLE) this.start(200);
    // Refused before the head is written, so a 500 can still go out instead.
    if (chunk.length > 0 && forbidsContent(this.status)) this.#refuseBody();
    if (this.state === RESPONSE_STATE.STARTED) this.#writeHead(undefined);
    if (chunk.length === 0 || this.#head) return;
    this.bodyBytes += chunkLength(chunk);
    const res = this.#res;
    if (!res.write(this.#encoded(chunk))) {
      yield* firstEvent("write(response)", res, ["drain"], { event: "close", error: () => new HttpError("HTTP_ERR_CLIENT_GONE", "client closed the connection") });
    }
  }
  end(chunk?: string | Uint8Array): void {
    if (this.state === RESPONSE_STATE.ENDED) throw new HttpError("HTTP_ERR_RESPONSE_STATE", "end() called twice");
    if (this.state === RESPONSE_STATE.IDLE) this.start(200);
    const length = chunk === undefined ? 0 : chunkLength(chunk);
    if (length > 0 && forbidsContent(this.status)) this.#refuseBody();
    if (this.state === RESPONSE_STATE.STARTED) {
      const declared = this.#fields.contentLength;
      // A response to HEAD, or a 304, may declare the length its GET would have (RFC 9110 §8.6).
      if (declared >= 0 && declared !== length && !isBodiless(this.status) && !(this.#head && length === 0)) {
        throw new HttpError("HTTP_ERR_INVALID_RESPONSE", `end() with ${length} bytes but Content-Length is ${declared}`);
      }
      this.#writeHead(isBodiless(this.status) ? undefined : length);
    }
    this.state = RESPONSE_STATE.ENDED;
    if (this.#head || length === 0) this.#res.end();
    else {
      this.bodyBytes += length;
      this.#res.end(this.#encoded(chunk!));
    }
  }
  sendPrepared(p: Prepared): void {
    if (this.state !== RESPONSE_STATE.IDLE) throw new HttpError("HTTP_ERR_RESPONSE_STATE", "a handler returned a prepared response after starting its own");
    if (p.headOnly && !this.#head) throw headOnlyError(p.fields.contentLength);
    this.status = p.status;
    this.#fields = p.fields;
    const bodiless = isBodiless(p.status);
    this.#writeHead(bodiless ? undefined : p.byteLength, bodiless ? "" : p.contentType);
    this.state = RESPONSE_STATE.ENDED;
    if (this.#head || bodiless || p.body.length === 0) this.#res.end();
    else {
      this.bodyBytes = p.byteLength;
      this.#res.end(this.#encoded(p.body));
    }
  }
  /** A string chunk as UTF-8 bytes when the head must stay latin1 (see #latin1Head). */
  #encoded(chunk: string | Uint8Array): string | Uint8Array {
    return this.#latin1Head && typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
  }
  /** A body for a status that has none (204, 205, 304): refused, as on the Skein server. */
  #refuseBody(): never {
    throw bodyRefused(this.status);
  }
  /**
   * The exchange ends with node's response: its 'finish' (all written,
   * unless the socket failed meanwhile: node says 'finish' all the same) or
   * its 'close' (cut short, or never sent). Subscribed once, for the first
   * listener.
   */
  protected override listening(): void {
    if (this.#subscribed) return;
    this.#subscribed = true;
    const res = this.#res;
    const socket = res.socket; // node lets go of it at 'finish'
    if (res.writableFinished) return this.#ended(socket);
    if (res.destroyed) return this.#closed(socket);
    res.once("finish", () => this.#ended(socket));
    res.once("close", () => this.#closed(socket));
  }
  #ended(socket: Duplex | null): void {
    const failed = socket !== null && ((socket as Socket).errored != null || (socket.destroyed && !socket.writableFinished && socket.writableLength > 0));
    this.finished(this.#res.statusCode, !failed, this.#logger);
  }
  #closed(socket: Duplex | null): void {
    const res = this.#res;
    if (res.writableFinished) this.#ended(socket);
    else this.finished(res.headersSent ? res.statusCode : 0, false, this.#logger);
  }
  /** @internal the app took the connection over */
  takenOver(): void {
    this.finished(101, true, this.#logger);
  }
  #writeHead(length: number | undefined, contentType = ""): void {
    checkContentLengthAllowed(this.status, this.#fields);
    // No prototype: a field may be named __proto__.
    const headers: OutgoingHttpHeaders = Object.create(null);
    let connection = false;
    for (const [name, value] of this.#fields.pairs) {
      // Node frames the body itself: a handler's Transfer-Encoding beside its Content-Length would be both.
      if (name.length === 17 && name.toLowerCase() === "transfer-encoding") continue;
      if (name.length === 10 && name.toLowerCase() === "connection") connection = true;
      const prev = headers[name];
      headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
    }
    if (contentType !== "" && !this.#fields.hasContentType) headers["content-type"] = contentType;
    if (length !== undefined && this.#fields.contentLength < 0) headers["content-length"] = length;
    // The handler's close (its keep-alive is not its to say: see serializeFields).
    if (this.#fields.close && !connection) headers.connection = "close";
    this.#latin1Head = NON_ASCII.test(this.#fields.text) || NON_ASCII.test(contentType);
    this.#res.writeHead(this.status, statusText(this.status) || undefined, headers);
    this.state = RESPONSE_STATE.STREAMING;
  }
}

/** Options of {@link toNodeListener}. */
export interface NodeListenerOptions {
  /** Where handler errors go. Default: standard error. */
  log?: (message: string, error?: unknown) => void;
}

/** A `node:http` request listener running a Skein app, plus its upgrade listener. */
export interface NodeListener {
  (req: IncomingMessage, res: NodeServerResponse): void;
  /** Attach as `server.on("upgrade", listener.upgrade)` so the app can `takeover()`. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Calls the shutdown hooks registered by taken-over connections (e.g. WebSockets close with 1001). */
  shutdown(graceMs?: number): void;
  /** The kernel the handlers run on. */
  readonly kernel: Kernel;
}

function* handle(app: App, req: NodeRequest, res: NodeResponse, raw: NodeServerResponse, log: (m: string, e?: unknown) => void): Generator<unknown, void, any> {
  try {
    const op = app(req, res);
    const result = op instanceof Prepared ? op : yield* handlerOperation(op);
    if (req.takenOver) return;
    if (result instanceof Prepared) res.sendPrepared(result);
    else if (res.state === RESPONSE_STATE.IDLE) throw new HttpError("HTTP_ERR_HANDLER", "handler returned without responding");
    else if (res.state !== RESPONSE_STATE.ENDED) res.end();
  } catch (e) {
    if (isCancelled(e)) return; // the client went away
    if (req.takenOver) return log(`skein http: ${req.method} ${req.target} failed after takeover`, e);
    // A client's fault (a 4xx HttpError) is only answered, as by the native server.
    if (!raw.destroyed && !isClientError(e)) log(`skein http: ${req.method} ${req.target} failed`, e);
    if (raw.headersSent) {
      raw.destroy();
      return;
    }
    const status = e instanceof HttpError && e.status > 0 ? e.status : 500;
    // The reason is given: a writeHead that failed may have left its own behind.
    raw.writeHead(status, statusText(status) || "Error", { "content-length": 0, connection: "close" });
    raw.end();
  } finally {
    req.closeBody();
    if (req.takenOver) res.takenOver();
    req.taken?.handlerReturned();
  }
}

/**
 * Runs `app` on `node:http`/`node:https`.
 *
 * @example
 * const listener = toNodeListener(app);
 * const server = http.createServer(listener).listen(8080);
 * server.on("upgrade", listener.upgrade);
 */
export function toNodeListener(app: App, options: NodeListenerOptions = {}): NodeListener {
  const kernel = new Kernel();
  const log = options.log ?? ((m: string, e?: unknown) => console.error(m, e ?? ""));
  const logger: FinishLogger = { log };
  const hooks = new Set<ShutdownHook>();
  // Handed-off protocols run as root tasks of the kernel.
  const host: TakeoverHost = {
    onShutdown: (hook) => void hooks.add(hook),
    offShutdown: (hook) => void hooks.delete(hook),
    adopt: (op, upgraded) => upgraded.start(op, kernel, null),
    handOffEnded: () => {},
    log,
  };
  const listener = ((req: IncomingMessage, res: NodeServerResponse) => {
    const request = new NodeRequest(req, null);
    const response = new NodeResponse(res, req.method, logger);
    const task = kernel.spawn(handle(app, request, response, res, log), null);
    res.once("close", () => {
      if (!res.writableFinished && !task.isDone) task.cancel();
    });
  }) as NodeListener;
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const request = new NodeRequest(req, { socket, head, host });
    // The app answers on the socket after takeover(); a plain response is
    // written raw, with Connection: close, and the socket closed after it
    // (as the native server does: node:http no longer manages this socket).
    const res = new NodeServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.once("finish", () => {
      if (!request.takenOver) socket.end();
    });
    const response = new NodeResponse(res, req.method, logger);
    kernel.spawn(handle(app, request, response, res, log), null);
  };
  listener.upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A response to a request pipelined before this one may still own the
    // socket (node:http hands the upgrade over at once): answer this one
    // after it. Assigning the socket now threw ERR_HTTP_SOCKET_ASSIGNED,
    // uncaught: any client could stop the process.
    const previous = (socket as Socket & { _httpMessage?: NodeServerResponse | null })._httpMessage;
    if (previous === undefined || previous === null) return upgrade(req, socket, head);
    let started = false;
    previous.once("finish", () => {
      started = true;
      setImmediate(() => {
        if (socket.destroyed) return;
        try {
          // Looked at again: node may have given the socket to the next response queued before this one.
          listener.upgrade(req, socket, head);
        } catch (e) {
          log(`skein http: ${req.method} ${req.url} could not be answered after the response before it`, e);
          socket.destroy();
        }
      });
    });
    previous.once("close", () => {
      if (!started) socket.destroy();
    });
  };
  listener.shutdown = (graceMs = 5000) => {
    for (const hook of hooks) hook(graceMs);
  };
  Object.defineProperty(listener, "kernel", { value: kernel });
  return listener;
}
