/**
 * The app contract — Skein's WSGI: one handler signature that any Skein
 * server (or the `node:http` adapter) can host.
 *
 * An app is `(req, res) => Operation<void | Prepared>`: usually a generator
 * function. It reads the request through `req` (the body as operations), and
 * answers either by returning a {@link Prepared} response (`res.text(…)`, the
 * fast path) or by streaming through `res.start` / `res.write` / `res.end`.
 *
 * @module
 */
import type { Operation } from "@skein/core";
import type { Socket } from "node:net";
import type { Prepared } from "./prepared.js";
import type { HeaderInit } from "./response-head.js";

/** A `Headers`-like, read-only, case-insensitive view of request header fields. */
export interface HeadersView extends Iterable<[string, string]> {
  /** Number of field lines. */
  readonly size: number;
  /** Combined value of the fields named `name` (", "-joined), or null. */
  get(name: string): string | null;
  /** Each value of the fields named `name`. */
  getAll(name: string): string[];
  /** True when a field named `name` is present. */
  has(name: string): boolean;
  /** `[lower-case name, value]` per field line. */
  entries(): IterableIterator<[string, string]>;
  /** Lower-case names. */
  keys(): IterableIterator<string>;
  /** Values. */
  values(): IterableIterator<string>;
  /** Calls `fn(value, name)` per field line. */
  forEach(fn: (value: string, name: string, headers: HeadersView) => void): void;
  /** Names as sent and values. */
  raw(): [string, string][];
  /** Lower-case names to combined values. */
  toJSON(): Record<string, string>;
}

/** What an Upgrade/CONNECT handler gets from {@link Request.takeover}. */
export interface Takeover {
  /** The raw socket (a TLS socket under TLS), paused, with no Skein listeners. */
  readonly socket: Socket;
  /** Bytes the client sent after the request head: the new protocol's first bytes. */
  readonly head: Buffer;
  /**
   * Registers `hook(graceMs)`, called when the server starts a graceful
   * shutdown (e.g. to close a WebSocket with 1001 Going Away). Returns a
   * function that unregisters it; the hook is dropped automatically when the
   * handler returns (or, after {@link handOff}, when the handed-off task ends).
   */
  onShutdown(hook: (graceMs: number) => void): () => void;
  /**
   * Runs `op` — the rest of the new protocol's life — as a task of the
   * server instead of the request's, so the HTTP connection can be freed as
   * soon as the handler returns: its parser, buffers and task frames are
   * not held for as long as the upgraded connection lives (a WebSocket
   * server holds thousands). The server still counts the connection, calls
   * its shutdown hooks, waits for `op` in a graceful close and cancels it
   * when the grace period ends. A failure of `op` is logged, like a
   * handler's. Call it at most once, then return from the handler.
   *
   * @example
   * const { socket, head, handOff } = yield* req.takeover();
   * handOff(proxy(socket, head)); // the handler returns; proxy() runs on
   */
  handOff(op: Operation<unknown>): void;
}

/** Limits for reading a whole body. */
export interface ReadAllOptions {
  /** Most bytes accepted; more is `HTTP_ERR_BODY_TOO_LARGE` (413). Default 1 MiB. */
  maxBytes?: number;
}

/**
 * A request as a handler sees it.
 *
 * @example
 * function* app(req: Request, res: Response) {
 *   const name = req.searchParams.get("name") ?? "world";
 *   return res.text(200, `hello ${name}, you sent ${req.headers.get("user-agent")}`);
 * }
 */
export interface Request {
  /** The method token, e.g. `GET`. */
  readonly method: string;
  /** The request target exactly as sent (`/a/b?x=1`). */
  readonly target: string;
  /** The path part of the target, still percent-encoded. */
  readonly path: string;
  /** The query part without `?`, still encoded ("" if none). */
  readonly query: string;
  /** The query, parsed. */
  readonly searchParams: URLSearchParams;
  /** `"1.1"` or `"1.0"`. */
  readonly httpVersion: string;
  /** Header fields, case-insensitive. */
  readonly headers: HeadersView;
  /** An Upgrade (e.g. WebSocket) or CONNECT request: see {@link takeover}. */
  readonly upgrade: boolean;
  /** Declared Content-Length, or -1. */
  readonly contentLength: number;
  /** The client's address and port, and the local ones. */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  /** True over TLS (or, behind `proxyHeaders`, when the proxy says https). */
  readonly secure: boolean;
  /** True when the connection came in on a Unix socket (`remoteAddress` is then undefined). */
  readonly unixSocket: boolean;
  /**
   * Set by `proxyHeaders` when a trusted proxy named the client: what the
   * address, port and `secure` above now report, and the proxy's address.
   * Null otherwise.
   */
  readonly forwarded: ForwardedClient | null;
  /** Route parameters (set by the router). */
  params: Record<string, string>;
  /** The next piece of the body (a view; copy to keep it); empty at the end. */
  read(): Operation<Buffer>;
  /** The whole body; 413 past `maxBytes`. */
  readAll(options?: ReadAllOptions): Operation<Buffer>;
  /** The whole body as UTF-8 text. */
  text(options?: ReadAllOptions): Operation<string>;
  /** The whole body parsed as JSON (invalid JSON: 400). */
  json<T = unknown>(options?: ReadAllOptions): Operation<T>;
  /**
   * Takes the connection over (Upgrade/CONNECT): earlier pipelined
   * responses are flushed first; the handler then owns the socket and
   * writes the `101 Switching Protocols` itself.
   */
  takeover(): Operation<Takeover>;
}

/** The progress of a response (illegal transitions throw `HTTP_ERR_RESPONSE_STATE`). */
export const RESPONSE_STATE = {
  /** Nothing decided yet. */
  IDLE: 0,
  /** `start()` called; the head is not written yet. */
  STARTED: 1,
  /** The head is written; body writes may follow. */
  STREAMING: 2,
  /** `end()` called or a prepared response written. */
  ENDED: 3,
} as const;

/** One of {@link RESPONSE_STATE}. */
export type ResponseState = (typeof RESPONSE_STATE)[keyof typeof RESPONSE_STATE];

/**
 * How a handler answers.
 *
 * @example
 * function* stream(req: Request, res: Response) {
 *   res.start(200, { "content-type": "text/plain" });  // chunked (HTTP/1.1)
 *   for (let i = 0; i < 3; i++) yield* res.write(`line ${i}\n`);
 *   res.end();
 * }
 */
export interface Response {
  /** See {@link RESPONSE_STATE}. */
  readonly state: ResponseState;
  /** The status given to `start` (0 before). */
  readonly status: number;
  /** True once the head has been written. */
  readonly headersSent: boolean;
  /** Sets status and header fields; nothing is written until the first `write`/`end`. */
  start(status: number, headers?: HeaderInit): void;
  /**
   * Writes a piece of the body (framed as chunked unless a Content-Length
   * was given), suspending while the client is not reading.
   */
  write(chunk: string | Uint8Array): Operation<void>;
  /** Finishes the response, with an optional last piece (`start(200)` if not started). */
  end(chunk?: string | Uint8Array): void;
  /** A prepared `text/plain; charset=utf-8` response to return. */
  text(status: number, body: string, headers?: HeaderInit): Prepared;
  /** A prepared JSON response to return. */
  json(status: number, value: unknown, headers?: HeaderInit): Prepared;
  /** A prepared binary response to return. */
  bytes(status: number, body: Uint8Array, headers?: HeaderInit): Prepared;
  /**
   * Calls `listener` once, when this exchange is over: the response went out
   * whole, was cut short, or never went out (the client left). It reports
   * what the server actually sent, which middleware cannot see when the
   * handler returns: the 500 for a handler that returned without
   * responding, the 503 of a handler timeout. A listener that throws is
   * logged; registered after the end, it is called at once.
   *
   * @example
   * res.onFinish(({ status, bodyBytes }) => metrics.record(status, bodyBytes));
   */
  onFinish(listener: (outcome: ResponseOutcome) => void): void;
}

/** How an exchange ended (see {@link Response.onFinish}). */
export interface ResponseOutcome {
  /**
   * The status sent: 0 when no response went out (the client left or the
   * server shut down first), 101 when the connection was taken over.
   */
  readonly status: number;
  /** Body bytes sent (0 for HEAD, bodiless statuses and a takeover). */
  readonly bodyBytes: number;
  /**
   * True when the whole response was written; false when it was cut short
   * (a handler failed after the head) or the connection was gone first.
   */
  readonly complete: boolean;
}

/**
 * An application: a handler coroutine. It may also be a plain function that
 * returns `res.text(…)` (a {@link Prepared} is itself an operation).
 */
export type App = (req: Request, res: Response) => Operation<void | Prepared>;

/** A function from app to app (logging, auth, routing…). */
export type Middleware = (next: App) => App;

/** The client as a trusted proxy reported it (see `proxyHeaders`). */
export interface ForwardedClient {
  /** From `X-Forwarded-For` (the proxy's own address when the header is absent). */
  readonly remoteAddress: string | undefined;
  /** `undefined` when the address came from the header (proxies do not report the port). */
  readonly remotePort: number | undefined;
  /** From `X-Forwarded-Proto` (the connection's own when the header is absent). */
  readonly secure: boolean;
  /** The proxy: the socket's peer (`undefined` on a Unix socket). */
  readonly proxyAddress: string | undefined;
}

/**
 * Applies middleware so the first one listed sees the request first.
 *
 * @example
 * const app = compose(accessLog(), cors)(router.app());
 */
export function compose(...middleware: Middleware[]): (app: App) => App {
  return (app) => middleware.reduceRight((next, mw) => mw(next), app);
}
