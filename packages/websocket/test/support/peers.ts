/**
 * Peers for the tests: the `ws` client with an inbox, and a raw TCP peer
 * that writes hand-made frames (RFC 6455 §5.2) and parses what comes back.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import { WebSocket as WsClient, type ClientOptions } from "ws";

/** Resolves when `cond()` holds, polling; rejects after `ms`. */
export async function until(cond: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

export interface Got {
  data: Buffer;
  binary: boolean;
}

/** A `ws` client whose messages and close are collected for awaiting. */
export class Inbox {
  readonly messages: Got[] = [];
  closed: { code: number; reason: string } | null = null;
  private taken = 0;
  constructor(readonly ws: WsClient) {
    ws.on("message", (data: Buffer, binary: boolean) => this.messages.push({ data, binary }));
    ws.on("close", (code: number, reason: Buffer) => (this.closed = { code, reason: reason.toString() }));
    ws.on("error", () => {});
  }
  async next(ms = 5000): Promise<Got> {
    await until(() => this.messages.length > this.taken || this.closed !== null, ms, "a message");
    if (this.messages.length > this.taken) return this.messages[this.taken++]!;
    throw new Error(`closed (${this.closed!.code}) instead of a message`);
  }
  async closeEvent(ms = 5000): Promise<{ code: number; reason: string }> {
    await until(() => this.closed !== null, ms, "close");
    return this.closed!;
  }
}

/** Opens a `ws` client and waits for the handshake. */
export async function openClient(url: string, options?: ClientOptions & { protocols?: string[] }): Promise<Inbox> {
  const ws = new WsClient(url, options?.protocols ?? [], options);
  const inbox = new Inbox(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`status ${res.statusCode}`)));
  });
  return inbox;
}

/** Builds one frame as a client would (masked unless `mask: false`). */
export function frame(opcode: number, payload: Buffer | string = Buffer.alloc(0), o: { fin?: boolean; mask?: boolean; rsv?: number } = {}): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  const mask = o.mask ?? true;
  const len = data.length;
  const head = Buffer.alloc(2 + (len > 65535 ? 8 : len > 125 ? 2 : 0) + (mask ? 4 : 0));
  head[0] = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode;
  let off = 2;
  if (len > 65535) {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
    off = 10;
  } else if (len > 125) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
    off = 4;
  } else head[1] = len;
  if (!mask) return Buffer.concat([head, data]);
  head[1]! |= 0x80;
  const key = randomBytes(4);
  key.copy(head, off);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = data[i]! ^ key[i & 3]!;
  return Buffer.concat([head, body]);
}

/** A close frame's payload: code and reason. */
export function closePayload(code: number, reason = ""): Buffer {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}

export interface Frame {
  fin: boolean;
  /** RSV1: a compressed message's first frame (permessage-deflate). */
  rsv1: boolean;
  opcode: number;
  payload: Buffer;
}

/** Parses unmasked server frames from a byte stream. */
export function parseFrames(bytes: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let off = 0;
  for (;;) {
    if (bytes.length - off < 2) break;
    const b0 = bytes[off]!;
    let len = bytes[off + 1]! & 0x7f;
    let p = off + 2;
    if (len === 126) {
      if (bytes.length - off < 4) break;
      len = bytes.readUInt16BE(off + 2);
      p = off + 4;
    } else if (len === 127) {
      if (bytes.length - off < 10) break;
      len = Number(bytes.readBigUInt64BE(off + 2));
      p = off + 10;
    }
    if (bytes.length < p + len) break;
    frames.push({ fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, payload: bytes.subarray(p, p + len) });
    off = p + len;
  }
  return { frames, rest: bytes.subarray(off) };
}

/** A raw TCP WebSocket peer: handshake by hand, then frames. */
export class RawPeer {
  private buf: Buffer = Buffer.alloc(0);
  readonly frames: Frame[] = [];
  ended = false;
  status = 0;
  responseHead = "";
  constructor(readonly socket: net.Socket) {
    socket.on("data", (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      if (this.status === 0) {
        const end = this.buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        this.responseHead = this.buf.subarray(0, end).toString("latin1");
        this.status = Number(this.responseHead.split(" ")[1]);
        this.buf = this.buf.subarray(end + 4);
      }
      const { frames, rest } = parseFrames(this.buf);
      this.frames.push(...frames);
      this.buf = rest;
    });
    socket.on("end", () => (this.ended = true));
    socket.on("close", () => (this.ended = true));
    socket.on("error", () => (this.ended = true));
  }

  /** Connects and sends a handshake (extra/override fields in `headers`); resolves once the response head is in. */
  static async open(port: number, path = "/", headers: Record<string, string | null> = {}): Promise<RawPeer> {
    const socket = net.connect({ port, host: "127.0.0.1" });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", () => resolve());
      socket.once("error", reject);
    });
    const peer = new RawPeer(socket);
    const fields: Record<string, string | null> = {
      host: `127.0.0.1:${port}`,
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": randomBytes(16).toString("base64"),
      "sec-websocket-version": "13",
      ...headers,
    };
    let head = `GET ${path} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(fields)) if (v !== null) head += `${k}: ${v}\r\n`;
    socket.write(head + "\r\n");
    await until(() => peer.status !== 0 || peer.ended, 5000, "handshake response");
    return peer;
  }

  /** The body after the response head (for error responses). */
  get leftover(): string {
    return this.buf.toString("latin1");
  }

  write(bytes: Buffer | Buffer[]): void {
    this.socket.write(Array.isArray(bytes) ? Buffer.concat(bytes) : bytes);
  }

  /** Waits for the next frame with `opcode` (any if omitted) at or after index `from`. */
  async frameAt(index: number, ms = 5000): Promise<Frame> {
    await until(() => this.frames.length > index, ms, `frame #${index}`);
    return this.frames[index]!;
  }

  /** The close frame the server sent: its code and reason. */
  async closeFrame(ms = 5000): Promise<{ code: number; reason: string }> {
    await until(() => this.frames.some((f) => f.opcode === 8), ms, "a close frame");
    const f = this.frames.find((f) => f.opcode === 8)!;
    return { code: f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005, reason: f.payload.subarray(2).toString() };
  }

  async endEvent(ms = 5000): Promise<void> {
    await until(() => this.ended, ms, "the server to close the connection");
  }

  destroy(): void {
    this.socket.destroy();
  }
}
