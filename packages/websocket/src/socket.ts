/**
 * The coroutine face of a `ws` WebSocket: `recv` (see inbound.ts), `send`,
 * `ping`, `close`.
 *
 * Outbound, `send` suspends while more than `sendHighWaterMarkBytes` wait
 * to be written: in the TCP socket's buffer, and, with permessage-deflate,
 * in `ws`'s queue of messages being compressed. Writes are corked (uWS's
 * cork): a socket is corked when something is written to it and uncorked
 * once the kernel's ready queue has drained (`Kernel.deferFlush`) — or,
 * while the messages of a read are being handled, once that read is done
 * (batch.ts). So 16 pipelined messages cost one syscall instead of 16.
 *
 * @module
 */
import type { Socket } from "node:net";
import { moveOnAfter, timeout, type Flushable, type Kernel, type Operation, type Task, type Teardown } from "@skein/core";
import { holdWhileReading, type Batched } from "./batch.js";
import { CloseCode, isSendableCloseCode } from "./constants.js";
import { fromWsError, WebSocketError, type WebSocketErrorCode } from "./errors.js";
import { Heartbeat, type HeartbeatTarget } from "./heartbeat.js";
import type { WebSocketLimits } from "./limits.js";
import { InboundSocket, type WaitOptions } from "./inbound.js";
import { ClosedOp, DrainOp, PingOp, WrittenOp } from "./socket-ops.js";
import { COPY_MAX, hasDeflate, writeMessage, wsStatusCode, type EventSink, type RawWebSocket } from "./ws-internals.js";

const OPEN = 1;

const DIRECT_SEND = 0;
const DIRECT_SEND_MASKED = 1;
const THROUGH_WS = 2;
const BINARY = Object.freeze({ binary: true });
const TEXT = Object.freeze({ binary: false });

/** Options of {@link WebSocket.send}. */
export interface SendOptions {
  /** Send a binary message (opcode 2) rather than text. Default: true for bytes, false for strings. */
  binary?: boolean;
}

/** Something a socket leaves when it closes (a hub). */
export interface Subscriptions {
  /** Forget every subscription of `ws`. */
  drop(ws: WebSocket): void;
}

// WebSocket's flags in InboundSocket.bits (1, 2 and 4 are InboundSocket's).
const FLUSH_QUEUED = 8;
const HELD = 16;
const CORKED = 32;

/** The rarely used part of a WebSocket's state: closing, pings, senders waiting to drain. */
class Rare {
  closeCode: number | null = null;
  closeReason = "";
  error: WebSocketError | null = null;
  drainers: DrainOp[] | null = null;
  /** The socket's 'drain' listener and the write callback of messages sent through ws: re-checks waiting senders. */
  onWritten: (() => void) | null = null;
  sentCloseCode: number | null = null;
  closeWaiters: ClosedOp[] | null = null;
  pings: PingOp[] | null = null;
  pingSeq = 0;
}

// A finished iterator: `yield* NO_WAIT` returns at once without a trip
// through the kernel (the common case of a send below the high-water mark).
const DONE: Iterator<unknown, void> = { next: () => ({ done: true, value: undefined }) };
const NO_WAIT: Operation<void> = { [Symbol.iterator]: () => DONE };

/**
 * One open WebSocket, server or client side.
 *
 * @example
 * function* chat(ws: WebSocket) {
 *   for (;;) {
 *     const msg = yield* ws.recv({ timeoutMs: 60_000 });
 *     if (msg === null) return;              // closed; see ws.closeCode / ws.error
 *     yield* ws.send(`you said: ${msg.text}`);
 *   }
 * }
 */
export class WebSocket extends InboundSocket implements Flushable, HeartbeatTarget, EventSink, Batched {
  /** @internal */ subscriptions: Subscriptions[] | null = null;
  private readonly socket: Socket | null;
  /** How messages are written: DIRECT_SEND(_MASKED), or THROUGH_WS when compressing. */
  private readonly sendMode: number;
  /** State an open, idle socket does not need, allocated on first use. */
  #x: Rare | null = null;
  /** Bytes waiting for the peer when the socket was last corked. */
  #corkBase = 0;

  /** Wraps an open `ws` WebSocket. Server code gets one from {@link websocket}; clients from {@link connect}. */
  constructor(raw: RawWebSocket, kernel: Kernel, limits: Readonly<WebSocketLimits>) {
    super(raw, kernel, limits);
    const socket = raw._socket;
    this.socket = socket;
    this.sendMode = socket === null || hasDeflate(raw) ? THROUGH_WS : raw._isServer ? DIRECT_SEND : DIRECT_SEND_MASKED;
    raw.sink = this;
    if (Heartbeat.needed(limits) && raw.readyState === OPEN) this.heartbeat = new Heartbeat(this);
    if (raw.readyState > OPEN && socket === null) this.done = true;
  }

  #rare(): Rare {
    return (this.#x ??= new Rare());
  }

  /**
   * The close code of the connection once closed: the peer's, if it sent a
   * close frame; else the one we sent (1007, 1009, 1001…); else 1006.
   */
  get closeCode(): number | null {
    return this.#x === null ? null : this.#x.closeCode;
  }
  set closeCode(v: number | null) {
    this.#rare().closeCode = v;
  }
  /** The close reason that came with {@link closeCode}. */
  get closeReason(): string {
    return this.#x === null ? "" : this.#x.closeReason;
  }
  set closeReason(v: string) {
    this.#rare().closeReason = v;
  }
  /**
   * Why the connection ended, when it was not an ordinary close handshake:
   * bad input from the peer (`WS_ERR_PROTOCOL`, `WS_ERR_INVALID_UTF8`,
   * `WS_ERR_MESSAGE_TOO_BIG`), a vanished peer, heartbeat or idle expiry.
   */
  get error(): WebSocketError | null {
    return this.#x === null ? null : this.#x.error;
  }
  set error(v: WebSocketError | null) {
    this.#rare().error = v;
  }
  /** @internal */
  get flushQueued(): boolean {
    return (this.bits & FLUSH_QUEUED) !== 0;
  }
  set flushQueued(v: boolean) {
    this.bits = v ? this.bits | FLUSH_QUEUED : this.bits & ~FLUSH_QUEUED;
  }
  /** @internal */
  get held(): boolean {
    return (this.bits & HELD) !== 0;
  }
  set held(v: boolean) {
    this.bits = v ? this.bits | HELD : this.bits & ~HELD;
  }
  /** Senders waiting for the socket to drain (any task may send). */
  private get drainers(): DrainOp[] | null {
    return this.#x === null ? null : this.#x.drainers;
  }
  private set drainers(v: DrainOp[] | null) {
    this.#rare().drainers = v;
  }
  /** The one callback (per socket) that re-checks waiting senders when bytes leave: see {@link mustWait}. */
  private get onWritten(): () => void {
    const rare = this.#rare();
    return (rare.onWritten ??= () => {
      if (this.drainers !== null && !this.mustWait()) this.wakeDrainers();
    });
  }
  /** @internal our close frame has gone out (the close handshake is under way) */
  get closeFrameSent(): boolean {
    return this.sentCloseCode !== null;
  }
  private get sentCloseCode(): number | null {
    return this.#x === null ? null : this.#x.sentCloseCode;
  }
  private set sentCloseCode(v: number | null) {
    this.#rare().sentCloseCode = v;
  }
  private get closeWaiters(): ClosedOp[] | null {
    return this.#x === null ? null : this.#x.closeWaiters;
  }
  private set closeWaiters(v: ClosedOp[] | null) {
    this.#rare().closeWaiters = v;
  }
  private get pings(): PingOp[] | null {
    return this.#x === null ? null : this.#x.pings;
  }
  private set pings(v: PingOp[] | null) {
    this.#rare().pings = v;
  }
  private get corked(): boolean {
    return (this.bits & CORKED) !== 0;
  }
  private set corked(v: boolean) {
    this.bits = v ? this.bits | CORKED : this.bits & ~CORKED;
  }

  /** `host:port` of the peer (computed when asked: an idle connection keeps no string for it). */
  get remote(): string {
    const s = this.socket;
    return s !== null && s.remoteAddress !== undefined ? `${s.remoteAddress}:${s.remotePort}` : "a closed WebSocket";
  }
  /** The subprotocol agreed in the handshake, or "". */
  get protocol(): string {
    return this.raw.protocol;
  }
  /** True until a close frame has been sent or received. */
  get isOpen(): boolean {
    return this.raw.readyState === OPEN;
  }
  /** Outbound bytes not yet taken by the operating system. */
  get bufferedAmount(): number {
    return this.raw.bufferedAmount;
  }

  /**
   * @internal bytes waiting for the peer to read them: `bufferedAmount`
   * less what this step or read has queued behind the cork (that goes out
   * when it ends). The Hub's slow-consumer test: a batch of broadcasts to a
   * reader that keeps up is not a backlog.
   */
  get backlog(): number {
    const buffered = this.raw.bufferedAmount;
    return this.corked ? Math.min(buffered, this.#corkBase) : buffered;
  }

  /** @internal more than `sendHighWaterMarkBytes` waits for the peer to read it: `send` suspends, and the heartbeat holds the peer at fault. */
  get writeStalled(): boolean {
    return this.raw.bufferedAmount > this.limits.sendHighWaterMarkBytes;
  }

  // ---- sending ------------------------------------------------------------

  /**
   * Sends one message (a string as text, bytes as binary unless `binary`
   * says otherwise). Returns at once while the outbound buffer is below the
   * high-water mark, else suspends until the peer has read enough. Throws
   * `WebSocketError` (code `WS_ERR_CLOSED`) once the socket is closing.
   *
   * @example
   * yield* ws.send("hello");
   * yield* ws.send(bytes, { binary: true });
   */
  send(data: Buffer | Uint8Array | string, options?: SendOptions): Operation<void> {
    const raw = this.raw;
    if (raw.readyState !== OPEN) throw this.closedError();
    const binary = options?.binary ?? typeof data !== "string";
    this.cork();
    // Without compression ws's send is Sender.frame plus a write; do that
    // directly (ws never holds messages back then). With it, ws must.
    // Either way the caller may reuse its buffer once send returns: up to
    // 64 KiB it is copied; a larger one is waited for until written (and
    // ws compresses a copy).
    if (this.sendMode === DIRECT_SEND || this.sendMode === DIRECT_SEND_MASKED) {
      if (typeof data !== "string" && data.byteLength > COPY_MAX && this.sendMode === DIRECT_SEND) {
        const written = new WrittenOp();
        writeMessage(this.socket!, data, binary, false, written.done);
        this.uncork();
        return written;
      }
      writeMessage(this.socket!, data, binary, this.sendMode === DIRECT_SEND_MASKED);
    } else this.sendThroughWs(typeof data === "string" ? data : Buffer.from(data), binary);
    return this.writeStalled ? new DrainOp(this) : NO_WAIT;
  }

  /**
   * Writes an already framed message (the hub's frame-once bytes). Returns
   * false, writing nothing, if the socket is not open. `payload`/`binary`
   * are used instead when `ws` must do the framing (permessage-deflate, or a
   * client socket, whose frames are masked).
   * @internal
   */
  writeFrame(frame: Buffer, payload: Buffer, binary: boolean): boolean {
    const raw = this.raw;
    if (raw.readyState !== OPEN) return false;
    this.cork();
    if (this.sendMode === DIRECT_SEND) this.socket!.write(frame);
    // ws compresses later: its own bytes, the frame's tail (a copy made
    // once per publish), not the publisher's buffer, which may be refilled.
    else this.sendThroughWs(frame.subarray(frame.length - payload.length), binary);
    return true;
  }

  /**
   * Hands a message to ws, which compresses (and may hold it back). It
   * carries the `onWritten` callback when something is already queued, or
   * when it alone may pass the high-water mark (a string is at most 3 UTF-8
   * bytes per char): so whenever a sender waits on bytes ws holds, the last
   * message ws holds has the callback, and a wake-up is due (see mustWait).
   * The other sends carry none: with a callback, Node allocates on each
   * write of the two-part frames ws corks.
   */
  private sendThroughWs(data: Buffer | Uint8Array | string, binary: boolean): void {
    const raw = this.raw;
    const mayStall = raw.bufferedAmount > 0 || (typeof data === "string" ? data.length * 3 : data.byteLength) > this.limits.sendHighWaterMarkBytes;
    raw.send(data, binary ? BINARY : TEXT, mayStall ? this.onWritten : undefined);
  }

  /** @internal */
  enterDrain(op: DrainOp, task: Task<unknown>): Teardown | void {
    if (!this.writeStalled) return task.resume();
    if (this.done || this.socket === null) return task.fail(this.closedError());
    this.uncork();
    if (!this.mustWait()) return task.resume();
    op.task = task;
    const waiting = (this.drainers ??= []);
    // Listened for only while a sender waits: idle sockets carry no listener.
    if (waiting.length === 0) this.socket.on("drain", this.onWritten);
    waiting.push(op);
    return op.cancel;
  }

  /**
   * True while senders must go on waiting: more than the high-water mark is
   * queued, and something will tell when it falls. For the socket's buffer
   * that is its 'drain', due once a write found the buffer past the
   * socket's own mark. Bytes ws holds back (a message being compressed, the
   * ones queued behind it) are not in the socket, so no 'drain' covers them:
   * there it is the write callback (`onWritten`) of the last message ws
   * holds (see sendThroughWs). Neither due: the socket is taking writes as
   * they come.
   */
  private mustWait(): boolean {
    if (!this.writeStalled) return false;
    const socket = this.socket!;
    return socket.writableNeedDrain || (this.sendMode === THROUGH_WS && this.raw.bufferedAmount > socket.writableLength);
  }

  /** @internal a sender waiting for the queue to fall was cancelled. */
  forgetDrainer(op: DrainOp): void {
    const waiting = this.drainers;
    const i = waiting === null ? -1 : waiting.indexOf(op);
    if (i < 0) return;
    waiting!.splice(i, 1);
    if (waiting!.length === 0) this.socket?.off("drain", this.onWritten);
  }

  /** @internal the queued bytes fell below the mark (or the socket closed): wake every waiting sender. */
  wakeDrainers(): void {
    const waiting = this.drainers;
    if (waiting === null || waiting.length === 0) return;
    this.drainers = null;
    this.socket?.off("drain", this.onWritten);
    for (const op of waiting) {
      // Waking one sender can cancel another (a failed child fails its
      // parent, which cancels the siblings): that one is no longer waiting.
      const task = op.task;
      if (task === null) continue;
      op.task = null;
      if (this.done) task.fail(this.closedError());
      else task.resume();
    }
  }

  private cork(): void {
    if (this.corked || this.socket === null) return;
    this.corked = true;
    this.#corkBase = this.raw.bufferedAmount;
    this.socket.cork();
    this.kernel.deferFlush(this);
  }

  /** Writes everything held back by the cork, in one write. Called by the kernel once its ready queue is empty. */
  flush(): void {
    if (!this.corked) return;
    // A read is still being processed: later messages of it may add more.
    if (holdWhileReading(this)) return;
    this.uncork();
  }

  private uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket!.uncork();
  }

  // ---- ping -----------------------------------------------------------------

  /**
   * Pings the peer and returns the round-trip time in ms when its pong
   * arrives. Throws `WebSocketError` (`WS_ERR_CLOSED`) if the socket closes
   * first; with `timeoutMs`, core's `TimeoutError`.
   *
   * @example
   * const rttMs = yield* ws.ping({ timeoutMs: 5000 });
   */
  ping(options?: WaitOptions): Operation<number> {
    const op = new PingOp(this);
    return options?.timeoutMs !== undefined ? timeout(options.timeoutMs, op) : op;
  }

  /** @internal */
  enterPing(op: PingOp, task: Task<unknown>): Teardown | void {
    if (this.raw.readyState !== OPEN) return task.fail(this.closedError());
    const rare = this.#rare();
    op.id = rare.pingSeq = (rare.pingSeq + 1) >>> 0;
    const payload = Buffer.allocUnsafe(4);
    payload.writeUInt32BE(op.id, 0);
    op.startedAt = this.kernel.now();
    op.task = task;
    (this.pings ??= []).push(op);
    this.cork();
    this.raw.ping(payload);
    return op.cancel;
  }

  /** @internal */
  forgetPing(op: PingOp): void {
    const pings = this.pings;
    const i = pings === null ? -1 : pings.indexOf(op);
    if (i >= 0) pings!.splice(i, 1);
  }

  /** @internal ws's 'pong' event. */
  onPong(data: Buffer): void {
    this.heartbeat?.onPong();
    const pings = this.pings;
    if (pings === null || data.length !== 4) return;
    const id = data.readUInt32BE(0);
    for (let i = 0; i < pings.length; i++) {
      const op = pings[i]!;
      if (op.id !== id) continue;
      pings.splice(i, 1);
      const task = op.task!;
      op.task = null;
      task.resume(this.kernel.now() - op.startedAt);
      return;
    }
  }

  /** @internal */
  sendHeartbeatPing(): void {
    if (this.raw.readyState !== OPEN) return;
    this.cork();
    this.raw.ping();
  }

  // ---- closing ----------------------------------------------------------------

  /**
   * Starts the close handshake with `code` and `reason` (at most 123 bytes)
   * and waits for the peer's close frame up to `closeTimeoutMs`; then drops
   * the connection (with `closeTimeoutMs` 0 at once, after handing the
   * socket our close frame and what was sent before it — bar what ws is
   * still compressing). Returns once the socket is closed. Idempotent.
   *
   * @example
   * yield* ws.close(4000, "bye");
   */
  *close(code: number = CloseCode.NORMAL, reason = ""): Generator<unknown, void, any> {
    if (this.done) return;
    this.startClose(code, reason);
    try {
      const waitMs = this.limits.closeTimeoutMs;
      if (waitMs > 0) yield* moveOnAfter(waitMs, this.closed());
      if (!this.done) {
        this.drop();
        yield* this.closed();
      }
    } finally {
      // Cancelled while waiting for the peer: do not leave the socket open.
      if (!this.done) this.drop();
    }
  }

  /**
   * Ends the close handshake from our side: drops the TCP connection after
   * uncorking, for destroying a corked socket discards what it holds — with
   * `closeTimeoutMs` 0 our close frame and the messages sent just before it,
   * written in this same step.
   */
  private drop(): void {
    this.uncork();
    this.raw.terminate();
  }

  /**
   * Sends a close frame without waiting (for code outside a task, or to
   * close a socket another task reads from: its `recv` returns null once the
   * peer answers). Reading resumes if it was paused, so the peer's answer is
   * read (see `readUntilClosed`). Throws RangeError for a code that may not
   * be sent.
   */
  startClose(code: number = CloseCode.NORMAL, reason = ""): void {
    if (!isSendableCloseCode(code)) throw new RangeError(`close code ${code} may not be sent (RFC 6455 §7.4)`);
    if (Buffer.byteLength(reason) > 123) throw new RangeError("close reason longer than 123 bytes (RFC 6455 §5.5)");
    if (this.raw.readyState !== OPEN) return;
    this.sentCloseCode = code;
    this.raw.close(code, reason);
    this.readUntilClosed();
  }

  /** Drops the connection at once: no close handshake, queued output discarded. */
  terminate(): void {
    this.raw.terminate();
  }

  /** Waits until the connection has fully closed (after either side closed it). */
  closed(): ClosedOp {
    return new ClosedOp(this);
  }

  /** @internal */
  enterClosed(op: ClosedOp, task: Task<unknown>): Teardown | void {
    if (this.done) return task.resume();
    op.task = task;
    (this.closeWaiters ??= []).push(op);
    return op.cancel;
  }

  /** @internal */
  forgetClosedWaiter(op: ClosedOp): void {
    const list = this.closeWaiters;
    const i = list === null ? -1 : list.indexOf(op);
    if (i >= 0) list!.splice(i, 1);
  }

  /**
   * @internal heartbeat, hub or server ends the connection for `reason`:
   * a close frame with the reason's close code (or `code`), or — for a
   * peer that stopped answering — dropping the socket.
   */
  expire(reason: WebSocketErrorCode, message = EXPIRY_MESSAGES[reason] ?? "", code?: number): void {
    if (this.done || this.raw.readyState !== OPEN) return;
    const err = new WebSocketError(reason, message, code === undefined ? undefined : { closeCode: code });
    this.error ??= err;
    if (err.closeCode === CloseCode.ABNORMAL) this.raw.terminate();
    else this.startClose(err.closeCode, message);
  }

  /** @internal the inbound queue passed its hard bound: close 1008. */
  protected queueFlooded(): void {
    this.expire("WS_ERR_QUEUE_OVERFLOW");
  }

  /** @internal ws's 'error' event: bad input from the peer, or a failed write. */
  onError(err: Error): void {
    this.error ??= fromWsError(err, wsStatusCode(err));
  }

  /** @internal ws's 'close' event. */
  onClose(code: number, reason: Buffer): void {
    if (this.done) return;
    this.done = true;
    if (code === CloseCode.ABNORMAL) {
      if (this.error === null && this.sentCloseCode === null) {
        this.error = new WebSocketError("WS_ERR_ABNORMAL_CLOSURE", "the connection ended without a close frame");
      }
      code = this.error?.closeCode ?? this.sentCloseCode ?? CloseCode.ABNORMAL;
    }
    this.closeCode = code;
    this.closeReason = reason.length === 0 ? "" : reason.toString("utf8");
    this.heartbeat?.stop();
    const subs = this.subscriptions;
    if (subs !== null) {
      this.subscriptions = null;
      for (const s of subs) s.drop(this);
    }
    this.finishInbound();
    this.wakeDrainers();
    const pings = this.pings;
    if (pings !== null) {
      this.pings = null;
      for (const op of pings) {
        const task = op.task!;
        op.task = null;
        task.fail(this.closedError());
      }
    }
    const waiters = this.closeWaiters;
    if (waiters !== null) {
      this.closeWaiters = null;
      for (const op of waiters) {
        const task = op.task!;
        op.task = null;
        task.resume();
      }
    }
  }

  /** @internal the error `send` and `ping` throw once the socket is closing. */
  closedError(): WebSocketError {
    const code = this.closeCode ?? this.sentCloseCode ?? this.error?.closeCode ?? CloseCode.ABNORMAL;
    return new WebSocketError("WS_ERR_CLOSED", `WebSocket to ${this.remote} is ${this.done ? "closed" : "closing"}`, {
      closeCode: code,
      cause: this.error ?? undefined,
    });
  }
}

const EXPIRY_MESSAGES: Partial<Record<WebSocketErrorCode, string>> = {
  WS_ERR_PONG_TIMEOUT: "no pong within pongTimeoutMs",
  WS_ERR_IDLE_TIMEOUT: "idle timeout",
  WS_ERR_MAX_LIFETIME: "maximum lifetime reached",
  WS_ERR_SHUTTING_DOWN: "server shutting down",
  WS_ERR_SLOW_CONSUMER: "slow consumer",
  WS_ERR_QUEUE_OVERFLOW: "inbound queue overflow",
};
