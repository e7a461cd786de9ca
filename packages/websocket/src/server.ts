/**
 * `websocket(handler, options)`: a WebSocket endpoint as an @skein/http app.
 *
 * Non-upgrade requests get 426, bad handshakes 400 (426 for a wrong
 * version), foreign origins 403 — each with `Connection: close`. A good
 * handshake takes the connection over from the HTTP server and hands the
 * socket and its leftover bytes to `ws` (`handleUpgrade`), which writes the
 * 101 and from then on does framing, masking, UTF-8 checks, compression and
 * the close handshake. The handler then runs in a task of the HTTP server
 * (`Takeover.handOff`), so the HTTP connection's parser, buffers and
 * request task are freed rather than held for the socket's lifetime:
 * returning closes with 1000, throwing closes with 1011 (and is logged),
 * cancellation (server shutdown) closes with 1001.
 *
 * @module
 */
import type { Socket } from "node:net";
import { currentTask, Event, type Operation } from "@skein/core";
import type { Prepared, Request, Response } from "@skein/http";
import { WebSocketServer, type PerMessageDeflateOptions, type ServerOptions } from "ws";
import { WEBSOCKET_VERSION } from "./constants.js";
import { checkHandshake, type HandshakeOptions } from "./handshake.js";
import { resolveLimits, type WebSocketLimits } from "./limits.js";
import { Session, type SessionOwner } from "./session.js";
import { WebSocket } from "./socket.js";
import { RawSocket, type RawWebSocket } from "./ws-internals.js";

/**
 * A WebSocket handler: a coroutine that owns one connection. One declared
 * with a single parameter, `function* (ws)`, is not given the request, and
 * the request (its parsed head, about 1 KB) is then not kept for the
 * connection's lifetime.
 */
export type WebSocketHandler = (ws: WebSocket, req: Request) => Operation<unknown>;

/** Options of {@link websocket}: limits, handshake policy, compression. */
export interface WebSocketOptions extends Partial<WebSocketLimits>, HandshakeOptions<Request> {
  /**
   * Negotiate permessage-deflate (RFC 7692) when the client offers it, with
   * `ws`'s options. Default false: compression costs CPU and memory per
   * connection, and mixing secrets with attacker-controlled data in one
   * compressed stream leaks them (CRIME/BREACH).
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Where handler failures are reported. Default: the kernel's log (`console.error`). */
  log?: (message: string, error?: unknown) => void;
}

/** Options of {@link WebSocketApp.shutdown}. */
export interface ShutdownOptions {
  /** Close code sent to every peer. Default 1001 (going away). */
  code?: number;
  /** Close reason. Default "server shutting down". */
  reason?: string;
}

/** The app `websocket()` returns: an @skein/http app plus its live connections. */
export interface WebSocketApp {
  (req: Request, res: Response): Operation<void | Prepared>;
  /** Open connections of this endpoint. */
  readonly connections: ReadonlySet<WebSocket>;
  /**
   * Graceful shutdown: refuses new upgrades (503), sends every peer a close
   * frame (1001), and returns once every handler has finished — its
   * `finally` blocks included — and every socket has closed.
   */
  shutdown(options?: ShutdownOptions): Operation<void>;
}

/**
 * A WebSocket endpoint for the @skein/http router.
 *
 * @example
 * const echo = websocket(function* (ws, req) {
 *   for (;;) {
 *     const msg = yield* ws.recv();   // null once closed
 *     if (msg === null) return;
 *     yield* ws.send(msg.data, { binary: msg.binary });
 *   }
 * }, { maxPayloadBytes: 1 << 20, origins: ["https://example.org"] });
 * await run(serve({ port: 8080 }, echo));
 */
export function websocket(handler: WebSocketHandler, options: WebSocketOptions = {}): WebSocketApp {
  const limits = resolveLimits(options);
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: options.perMessageDeflate ?? false,
    maxPayload: limits.maxPayloadBytes,
    // ws's own backstop for the close handshake; `close()` also enforces it on the kernel clock.
    closeTimeout: Math.max(limits.closeTimeoutMs, 1),
    WebSocket: RawSocket,
  } as ServerOptions);
  const connections = new Set<WebSocket>();
  // Mutable state shared by the sessions and shutdown.
  const state = { sessions: 0, stopping: null as Event | null };

  // Not a generator: an idle connection keeps no frame for the handshake.
  function endpoint(req: Request, res: Response): Operation<void | Prepared> {
    if (state.stopping !== null) return res.text(503, "server shutting down\n", { connection: "close" });
    const verdict = checkHandshake(req, options);
    if (!verdict.ok) return res.text(verdict.status, `${verdict.reason}\n`, { ...verdict.headers, connection: "close" });
    if (!req.upgrade) return res.text(400, "not an upgrade request\n", { connection: "close" });
    return accept(req, verdict.key, verdict.protocol);
  }

  // The handshake, in the request's task. The session is handed off to a
  // task of the server, and this frame, the request's task and the HTTP
  // connection are gone once it returns: an idle WebSocket keeps none of them.
  function* accept(req: Request, key: string, protocol: string | null): Generator<unknown, void, any> {
    const task = yield* currentTask();
    const { socket, head, onShutdown, handOff } = yield* req.takeover();
    const raw = upgrade(wss, req, key, protocol, socket, head);
    if (raw === null) return; // the client hung up during the handshake; ws dropped the socket
    const ws = new WebSocket(raw, task.kernel, limits);
    socket.resume(); // the takeover hands the socket over paused
    // The HTTP server's graceful shutdown: 1001 to the peer; the handler's
    // recv() then returns null and it finishes on its own.
    onShutdown(() => ws.expire("WS_ERR_SHUTTING_DOWN"));
    // A handler declared `(ws)` never sees the request: then it is not kept.
    handOff(new Session(ws, handler, handler.length >= 2 ? req : undefined, owner));
    connections.add(ws);
    state.sessions++;
    // shutdown() may have begun meanwhile.
    if (state.stopping !== null) ws.expire("WS_ERR_SHUTTING_DOWN");
  }

  const owner: SessionOwner = {
    log: options.log,
    ended(ws) {
      connections.delete(ws);
      if (--state.sessions === 0) state.stopping?.set();
    },
  };

  function* shutdown(opts: ShutdownOptions = {}): Generator<unknown, void, any> {
    const stopping = (state.stopping ??= new Event("websocket shutdown"));
    for (const ws of connections) ws.expire("WS_ERR_SHUTTING_DOWN", opts.reason, opts.code);
    if (state.sessions > 0) yield* stopping.wait();
  }

  return Object.assign(endpoint, { connections, shutdown }) as WebSocketApp;
}

/**
 * Hands the socket to ws, which writes the 101 and takes over the framing.
 * ws reads only these fields of the request; it is offered exactly the
 * subprotocol we chose, so its default pick is ours. Returns null when ws
 * dropped the socket (the client hung up meanwhile).
 */
function upgrade(wss: WebSocketServer, req: Request, key: string, protocol: string | null, socket: Socket, head: Buffer): RawWebSocket | null {
  const handshake = {
    method: "GET",
    url: req.target,
    headers: {
      upgrade: "websocket",
      "sec-websocket-key": key,
      "sec-websocket-version": WEBSOCKET_VERSION,
      "sec-websocket-protocol": protocol ?? undefined,
      "sec-websocket-extensions": req.headers.get("sec-websocket-extensions") ?? undefined,
    },
  };
  let raw: RawWebSocket | null = null;
  wss.handleUpgrade(handshake as never, socket, head, (w) => (raw = w as RawWebSocket));
  return raw;
}
