/**
 * The demo's routes as one @skein/http app: the page, the TechEmpower-style
 * fixed responses, echo, streaming, a timer, and the two WebSocket
 * endpoints. Anything else is 404 (the contract: HEAD on every GET route,
 * 404 for anything else — including a known path with another method).
 *
 * @example
 * ```ts
 * const app = demoApp({ page: loadPage(), echoWs, chatWs, counter: { requests: 0 } });
 * await run(serve({ port: 8080 }, app));
 * ```
 */
import { sleep, type Operation } from "@skein/core";
import { Prepared, type App, type Request, type Response } from "@skein/http";
import { PAGE_CONTENT_TYPE } from "./page/page.js";

/** Every demo response says what served it. */
export const SERVER_HEADER = { Server: "Skein" } as const;

// Built once: the server keeps reusable prepared responses as finished bytes.
const HELLO = Prepared.text(200, "Hello, World!", SERVER_HEADER);
const HELLO_JSON = Prepared.json(200, { message: "Hello, World!" }, SERVER_HEADER);
const NOT_FOUND = Prepared.text(404, "not found\n", SERVER_HEADER);

/** Most chunks and bytes per chunk /stream accepts (400 past them). */
export const STREAM_MAX_CHUNKS = 1_000_000;
export const STREAM_MAX_CHUNK_BYTES = 16 * 1024 * 1024;
/** Longest /sleep (400 past it): one hour. */
export const SLEEP_MAX_MS = 3_600_000;

/** Counters the live figures are made of. */
export interface RequestCounter {
  /** Requests routed so far (every request that reached the app). */
  requests: number;
}

export interface DemoAppOptions {
  /** Counts requests (read once a second for requests/s). */
  counter: RequestCounter;
  /** The page's HTML. */
  page: string;
  /** The /ws/echo endpoint (a `websocket()` app). */
  echoWs: App;
  /** The /ws/chat endpoint. */
  chatWs: App;
}

/** A non-negative integer query parameter at most `max`, or undefined (missing: `fallback`). */
function intParam(req: Request, name: string, max: number, fallback: number): number | undefined {
  const raw = req.searchParams.get(name);
  if (raw === null) return fallback;
  if (!/^\d{1,16}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n <= max ? n : undefined;
}

function badRequest(res: Response, what: string): Prepared {
  return res.text(400, `${what}\n`, SERVER_HEADER);
}

/** POST /echo: the body back as it streams in, same Content-Type, same framing when the length is known. */
function* echo(req: Request, res: Response): Operation<void> {
  const headers: Record<string, string> = {
    ...SERVER_HEADER,
    "Content-Type": req.headers.get("content-type") ?? "application/octet-stream",
  };
  if (req.contentLength >= 0) headers["Content-Length"] = String(req.contentLength);
  res.start(200, headers);
  for (;;) {
    const chunk = yield* req.read();
    if (chunk.length === 0) break;
    yield* res.write(chunk);
  }
  res.end();
}

// One buffer of `x` bytes for every /stream, grown to the largest size asked
// for: a buffer per request let clients that do not read pin 16 MiB each.
let xs = Buffer.alloc(0);
function xBytes(size: number): Buffer {
  if (size > xs.length) xs = Buffer.alloc(size, "x");
  return xs.subarray(0, size);
}

/** GET /stream?chunks=N&size=M: N chunks of M bytes of `x`. */
function* stream(req: Request, res: Response): Operation<void | Prepared> {
  const chunks = intParam(req, "chunks", STREAM_MAX_CHUNKS, 10);
  const size = intParam(req, "size", STREAM_MAX_CHUNK_BYTES, 1024);
  if (chunks === undefined) return badRequest(res, `chunks must be an integer from 0 to ${STREAM_MAX_CHUNKS}`);
  if (size === undefined) return badRequest(res, `size must be an integer from 0 to ${STREAM_MAX_CHUNK_BYTES}`);
  res.start(200, { ...SERVER_HEADER, "Content-Type": "text/plain; charset=utf-8" }); // no length: chunked
  const chunk = xBytes(size); // shared by every request, written N times
  for (let i = 0; i < chunks && size > 0; i++) yield* res.write(chunk);
  res.end();
}

/** GET /sleep?ms=N: `slept N` after N ms on the kernel's timer. */
function* sleepRoute(req: Request, res: Response): Operation<Prepared> {
  const ms = intParam(req, "ms", SLEEP_MAX_MS, 0);
  if (ms === undefined) return badRequest(res, `ms must be an integer from 0 to ${SLEEP_MAX_MS}`);
  yield* sleep(ms);
  return res.text(200, `slept ${ms}`, SERVER_HEADER);
}

/** The demo app. */
export function demoApp(options: DemoAppOptions): App {
  const page = Prepared.bytes(200, Buffer.from(options.page, "utf8"), { ...SERVER_HEADER, "Content-Type": PAGE_CONTENT_TYPE });
  const { echoWs, chatWs, counter } = options;
  return function* demo(req: Request, res: Response): Operation<void | Prepared> {
    counter.requests++;
    const get = req.method === "GET" || req.method === "HEAD";
    switch (req.path) {
      case "/plaintext":
        if (get) return HELLO;
        break;
      case "/json":
        if (get) return HELLO_JSON;
        break;
      case "/":
        if (get) return page;
        break;
      case "/echo":
        if (req.method === "POST") return yield* echo(req, res);
        break;
      case "/stream":
        if (get) return yield* stream(req, res);
        break;
      case "/sleep":
        if (get) return yield* sleepRoute(req, res);
        break;
      case "/ws/echo":
        if (req.method === "GET") return yield* echoWs(req, res);
        break;
      case "/ws/chat":
        if (req.method === "GET") return yield* chatWs(req, res);
        break;
    }
    return NOT_FOUND;
  };
}
