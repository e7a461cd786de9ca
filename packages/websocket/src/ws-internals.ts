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
 * - `websocket._isServer` (whether to mask) and `_extensions` (whether
 *   permessage-deflate was negotiated: then every message goes through
 *   `ws.send`, which compresses and may hold messages back).
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
  _isServer: boolean;
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

// Frame options per kind, reused: Sender.frame only reads them.
const FRAME_OPTIONS: FrameOptions[] = [
  { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false },
  { fin: true, opcode: 2, mask: false, readOnly: false, rsv1: false },
  { fin: true, opcode: 1, mask: true, readOnly: true, rsv1: false },
  { fin: true, opcode: 2, mask: true, readOnly: true, rsv1: false },
];

/**
 * Payloads up to this size are copied behind their header (one write, and
 * the caller's buffer is free at once); larger ones are written after it
 * uncopied, and `onWritten` says when the socket is done with them.
 */
export const COPY_MAX = 64 * 1024;

/**
 * Frames one whole message with ws's framer and writes it to `socket`: what
 * `ws.send` does for an uncompressed message, without its per-call option
 * objects, and with a small payload copied behind its header so the message
 * is one write. `masked` for the client side (the mask is applied to a copy:
 * `data` is never modified).
 */
export function writeMessage(socket: Socket, data: Buffer | Uint8Array | string, binary: boolean, masked: boolean, onWritten?: () => void): void {
  const payload = typeof data === "string" ? Buffer.from(data) : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const parts = Sender.frame(payload, FRAME_OPTIONS[(masked ? 2 : 0) + (binary ? 1 : 0)]!);
  if (parts.length === 1) {
    socket.write(parts[0]!, onWritten);
    return;
  }
  const head = parts[0]!;
  const body = parts[1]!;
  if (body.length > COPY_MAX) {
    socket.write(head);
    socket.write(body, onWritten);
    return;
  }
  const one = Buffer.allocUnsafe(head.length + body.length);
  head.copy(one, 0);
  body.copy(one, head.length);
  socket.write(one, onWritten);
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
