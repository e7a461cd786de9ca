/**
 * The client: `connect(url)` opens a WebSocket with `ws` and returns the
 * same coroutine {@link WebSocket} the server hands its handlers.
 *
 * @module
 */
import { action, currentTask, timeout, TimeoutError, type Operation } from "@skein/core";
import type { IncomingMessage } from "node:http";
import type { ClientOptions, PerMessageDeflateOptions } from "ws";
import { WebSocketError } from "./errors.js";
import { DEFAULT_WS_LIMITS, resolveLimits, type WebSocketLimits } from "./limits.js";
import { WebSocket } from "./socket.js";
import { RawSocket, type RawWebSocket } from "./ws-internals.js";

/** Options of {@link connect}. */
export interface ConnectOptions extends Partial<WebSocketLimits> {
  /** Subprotocols to offer, most preferred first; the server's pick is `ws.protocol`. */
  protocols?: string[];
  /** Extra request header fields (cookies, authorization…). */
  headers?: Record<string, string>;
  /** The `Origin` field to send. */
  origin?: string;
  /** Offer permessage-deflate. Default false. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
}

/** The client's defaults: as the server's, but no heartbeat (servers ping; clients answer). */
export const CLIENT_DEFAULT_LIMITS: Readonly<WebSocketLimits> = Object.freeze({ ...DEFAULT_WS_LIMITS, pingIntervalMs: 0 });

function noop(): void {}

/**
 * Opens a WebSocket to `url` (`ws:`, `wss:`, `http:`, `https:`). Throws
 * `WebSocketError` with code `WS_ERR_HANDSHAKE` (and `status`, if the server
 * answered with something other than 101) when the connection or handshake
 * fails or takes longer than `handshakeTimeoutMs`. Cancelling the
 * task aborts the attempt. Close the socket when done (`yield* ws.close()`).
 *
 * @example
 * const ws = yield* connect("ws://127.0.0.1:8080/echo", { protocols: ["chat.v1"] });
 * try {
 *   yield* ws.send("hello");
 *   const reply = yield* ws.recv();
 * } finally {
 *   yield* ws.close();
 * }
 */
export function* connect(url: string | URL, options: ConnectOptions = {}): Generator<unknown, WebSocket, any> {
  const limits = resolveLimits(options, CLIENT_DEFAULT_LIMITS);
  const task = yield* currentTask();
  const raw = new RawSocket(url, options.protocols ?? [], {
    perMessageDeflate: options.perMessageDeflate ?? false,
    maxPayload: limits.maxPayloadBytes,
    closeTimeout: Math.max(limits.closeTimeoutMs, 1),
    handshakeTimeout: limits.handshakeTimeoutMs > 0 ? limits.handshakeTimeoutMs : undefined,
    headers: options.headers,
    origin: options.origin,
    followRedirects: false,
  } as ClientOptions) as unknown as RawWebSocket;
  // ws emits 'error' after a failed handshake even once we stopped listening.
  raw.on("error", noop);
  const target = typeof url === "string" ? url : url.href;
  const opened: Operation<WebSocket> = action<WebSocket>(`ws.connect(${target})`, (resolve, reject) => {
    const cleanup = () => {
      raw.off("open", onOpen);
      raw.off("error", onError);
      raw.off("unexpected-response", onUnexpected);
    };
    // Wrap inside the 'open' event: messages may follow before the task runs again.
    const onOpen = () => {
      cleanup();
      raw.off("error", noop);
      resolve(new WebSocket(raw, task.kernel, limits));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new WebSocketError("WS_ERR_HANDSHAKE", `cannot open WebSocket to ${target}: ${err.message}`, { cause: err }));
    };
    const onUnexpected = (_req: unknown, res: IncomingMessage) => {
      cleanup();
      res.resume();
      raw.terminate();
      reject(new WebSocketError("WS_ERR_HANDSHAKE", `${target} answered the handshake with ${res.statusCode}`, { status: res.statusCode }));
    };
    raw.on("open", onOpen);
    raw.on("error", onError);
    raw.on("unexpected-response", onUnexpected);
    return () => {
      cleanup();
      raw.terminate();
    };
  });
  const ms = limits.handshakeTimeoutMs;
  if (ms === 0) return yield* opened;
  // A total deadline: ws's own handshakeTimeout is an idle timeout on the
  // socket, which a server trickling its response one byte at a time never trips.
  try {
    return yield* timeout(ms, opened);
  } catch (e) {
    if (e instanceof TimeoutError) throw new WebSocketError("WS_ERR_HANDSHAKE", `cannot open WebSocket to ${target}: the handshake took longer than ${ms} ms`, { cause: e });
    throw e;
  }
}
