/**
 * The parts of the `ws` package this adapter uses beyond its typed public
 * API, in one place, so a `ws` upgrade that moves them breaks here and
 * nowhere else (ws is pinned to an exact version).
 *
 * - the `WebSocket` option of `WebSocketServer`: ws builds its sockets from
 *   our subclass {@link RawSocket}, which hands events straight to Skein.
 * - `Sender.frame` (exported by ws, untyped in @types/ws): frames a message
 *   once for the hub's fan-out.
 * - `websocket._socket`: the raw TCP socket, corked while a read is
 *   processed so replies leave in one write.
 * - `websocket._sender._state` / `_queue`: whether ws is busy compressing,
 *   in which case bytes must go through ws to keep their order.
 * - the `status-code` symbol ws puts on receiver errors: the close code it sent.
 *
 * @module
 */
import type { Socket } from "node:net";
import * as wsModule from "ws";
import { WebSocket as WsWebSocket } from "ws";

/** Where a {@link RawSocket} delivers its events once Skein owns it. */
export interface EventSink {
  onMessage(data: Buffer, binary: boolean): void;
  onPong(data: Buffer): void;
  onError(err: Error): void;
  onClose(code: number, reason: Buffer): void;
}

/** A `ws` WebSocket with the private fields read here. */
export interface RawWebSocket extends WsWebSocket {
  _socket: Socket | null;
  _sender: { _state: number; _queue: unknown[] } | null;
  _extensions: Record<string, unknown>;
  /** Set once Skein has wrapped it (always a {@link RawSocket}). */
  sink: EventSink | null;
}

/**
 * ws's WebSocket, delivering its events to Skein by direct calls instead of
 * through listeners: no listener table per connection (an idle connection
 * is smaller) and no EventEmitter dispatch per message. Until `sink` is set
 * (the client's opening handshake), events go to listeners as usual.
 */
export class RawSocket extends WsWebSocket {
  sink: EventSink | null = null;

  override emit(event: string | symbol, a?: any, b?: any): boolean {
    const sink = this.sink;
    if (sink !== null) {
      switch (event) {
        case "message":
          sink.onMessage(a, b);
          return true;
        case "pong":
          sink.onPong(a);
          return true;
        case "ping": // ws has already answered it
          return true;
        case "error":
          sink.onError(a);
          return true;
        case "close":
          sink.onClose(a, b);
          return true;
      }
    }
    return arguments.length <= 2 ? super.emit(event, a) : super.emit(event, a, b);
  }
}

/** Options of ws's `Sender.frame` (lib/sender.js). */
export interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}

interface SenderStatic {
  frame(data: Buffer, options: FrameOptions): Buffer[];
}

/** ws's framer: `[header, payload]` (or `[header]` for an empty payload). */
export const Sender: SenderStatic = (wsModule as unknown as { Sender: SenderStatic }).Sender;

/**
 * One buffer holding a complete unmasked, uncompressed server frame for
 * `payload`, framed by ws (RFC 6455 §5.2). Used to write the same bytes to
 * many sockets.
 *
 * @example
 * const bytes = frameOnce(Buffer.from("hi"), false); // <81 02 68 69>
 */
export function frameOnce(payload: Buffer, binary: boolean): Buffer {
  const parts = Sender.frame(payload, { fin: true, opcode: binary ? 2 : 1, mask: false, readOnly: false, rsv1: false });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, parts[0]!.length + parts[1]!.length);
}

/** True while ws's sender holds messages back (compressing): writes must then go through ws. */
export function senderBusy(raw: RawWebSocket): boolean {
  const s = raw._sender;
  return s !== null && (s._state !== 0 || s._queue.length > 0);
}

/** True when permessage-deflate was negotiated on `raw`. */
export function hasDeflate(raw: RawWebSocket): boolean {
  return raw._extensions["permessage-deflate"] !== undefined;
}

/** The close code ws sent for a receiver error (its private `status-code` symbol), if any. */
export function wsStatusCode(err: object): number | undefined {
  for (const sym of Object.getOwnPropertySymbols(err)) {
    if (sym.description === "status-code") {
      const v = (err as Record<symbol, unknown>)[sym];
      return typeof v === "number" ? v : undefined;
    }
  }
  return undefined;
}
