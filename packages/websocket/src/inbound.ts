/**
 * The receiving half of a WebSocket: messages wait in a queue bounded by
 * `maxQueuedMessages` / `maxQueuedBytes`; past either, reading from the
 * socket pauses (TCP backpressure reaches the peer) until the handler has
 * taken half of them. `recv`, `each` and async iteration read from it.
 * Once a close frame has been sent, reading goes on whatever the queue
 * holds: the peer's close frame must be read to finish the handshake.
 *
 * @module
 */
import { timeout, type Kernel, type Operation, type Task, type Teardown } from "@skein/core";
import { messageArrives } from "./batch.js";
import { wholeMs, type Heartbeat } from "./heartbeat.js";
import type { WebSocketLimits } from "./limits.js";
import { Message } from "./message.js";
import { RecvOp } from "./socket-ops.js";
import { hasDeflate, type RawWebSocket } from "./ws-internals.js";

/** Options of `recv` and `ping`. */
export interface WaitOptions {
  /** Throw core's `TimeoutError` if nothing arrives within this many ms. */
  timeoutMs?: number;
}

/** Beyond `maxQueuedBytes`, what the hard bound allows when `maxPayloadBytes` is 0 (no limit). */
const HARD_QUEUE_SLACK_BYTES = 16 * 1024 * 1024;
/** What one socket read may hold (Node reads 64 KiB at a time). */
const ONE_READ_BYTES = 64 * 1024;

// InboundSocket.bits (WebSocket uses the higher ones).
const DONE = 1;
const PAUSED = 2;
const CLOSE_SENT = 4;

/** The receiving half of {@link WebSocket} (which extends it). */
export abstract class InboundSocket {
  /** The underlying `ws` WebSocket. */
  readonly raw: RawWebSocket;
  readonly limits: Readonly<WebSocketLimits>;
  /** @internal */ readonly kernel: Kernel;
  /** @internal */ reader: RecvOp | null = null;
  // Booleans of this class and WebSocket, packed into one field (an idle
  // server holds thousands of sockets): see the accessors.
  protected bits = 0;
  protected heartbeat: Heartbeat | null = null;
  // The queue, allocated on first use (an idle connection has none): an
  // array consumed from qHead, reset when empty.
  private queue: (Message | undefined)[] | null = null;
  private qHead = 0;
  private qBytes = 0;
  private asyncWaiter: ((m: Message | null) => void) | null = null;

  constructor(raw: RawWebSocket, kernel: Kernel, limits: Readonly<WebSocketLimits>) {
    this.raw = raw;
    this.kernel = kernel;
    this.limits = limits;
  }

  /** True once the connection has closed. */
  protected get done(): boolean {
    return (this.bits & DONE) !== 0;
  }
  protected set done(v: boolean) {
    this.bits = v ? this.bits | DONE : this.bits & ~DONE;
  }
  private get paused(): boolean {
    return (this.bits & PAUSED) !== 0;
  }
  private set paused(v: boolean) {
    this.bits = v ? this.bits | PAUSED : this.bits & ~PAUSED;
  }
  /** Our close frame is out: reading no longer pauses (see {@link readUntilClosed}). */
  private get closeSent(): boolean {
    return (this.bits & CLOSE_SENT) !== 0;
  }
  private set closeSent(v: boolean) {
    this.bits = v ? this.bits | CLOSE_SENT : this.bits & ~CLOSE_SENT;
  }

  /** `host:port` of the peer. */
  abstract get remote(): string;

  /** True once the connection has fully closed (recv then returns null). */
  get isClosed(): boolean {
    return this.done;
  }
  /** True while reading is paused because the handler has fallen behind. */
  get readPaused(): boolean {
    return this.paused;
  }
  /** Received messages waiting for `recv()`. */
  get queuedMessages(): number {
    return this.queue === null ? 0 : this.queue.length - this.qHead;
  }

  /**
   * The next message, suspending until one arrives; `null` once the
   * connection has closed (messages that arrived before are returned first).
   * With `timeoutMs`, throws core's `TimeoutError` if none arrives in time.
   */
  recv(options?: WaitOptions): Operation<Message | null> {
    const op = new RecvOp(this);
    return options?.timeoutMs !== undefined ? timeout(options.timeoutMs, op) : op;
  }

  /**
   * Runs `body` for each message until the connection closes.
   *
   * @example
   * yield* ws.each(function* (msg) { yield* ws.send(msg.data, { binary: msg.binary }); });
   */
  *each(body: (msg: Message) => Operation<unknown>): Generator<unknown, void, any> {
    for (;;) {
      const msg = yield* this.recv();
      if (msg === null) return;
      yield* body(msg);
    }
  }

  /**
   * Messages as an async iterator, for code outside Skein tasks (tests,
   * scripts using `await`); inside a task use {@link recv} or {@link each}.
   *
   * @example
   * for await (const msg of ws) console.log(msg.text);
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Message, void, undefined> {
    for (;;) {
      const msg = this.queuedMessages > 0 ? this.take() : this.done ? null : await new Promise<Message | null>((resolve) => (this.asyncWaiter = resolve));
      if (msg === null) return;
      yield msg;
    }
  }

  /** @internal */
  enterRecv(op: RecvOp, task: Task<unknown>): Teardown | void {
    if (this.reader !== null || this.asyncWaiter !== null) throw new TypeError(`two readers cannot recv() from ${this.remote} at once`);
    if (this.queuedMessages > 0) return task.resume(this.take());
    if (this.done) return task.resume(null);
    op.task = task;
    this.reader = op;
    return op.cancel;
  }

  /** Takes the oldest queued message (the queue is not empty). */
  private take(): Message {
    const queue = this.queue!;
    const msg = queue[this.qHead]!;
    queue[this.qHead++] = undefined;
    if (this.qHead === queue.length) {
      queue.length = 0;
      this.qHead = 0;
    } else if (this.qHead >= 1024 && this.qHead * 2 >= queue.length) {
      // A queue that never quite empties: drop the consumed front now and
      // then (amortized O(1) per message) so the array does not grow forever.
      queue.splice(0, this.qHead);
      this.qHead = 0;
    }
    this.qBytes -= msg.data.length;
    if (this.paused && queue.length - this.qHead <= this.limits.maxQueuedMessages >>> 1 && this.qBytes <= this.limits.maxQueuedBytes / 2) {
      this.paused = false;
      this.raw.resume();
    }
    return msg;
  }

  /** @internal ws's 'message' event. */
  onMessage(data: Buffer, binary: boolean): void {
    messageArrives();
    const hb = this.heartbeat;
    if (hb !== null && this.limits.idleTimeoutMs > 0) hb.lastMessageAt = wholeMs(this.kernel.now());
    const msg = new Message(data, binary);
    const reader = this.reader;
    if (reader !== null) {
      this.reader = null;
      const task = reader.task!;
      reader.task = null;
      task.resume(msg);
      return;
    }
    const waiter = this.asyncWaiter;
    if (waiter !== null) {
      this.asyncWaiter = null;
      waiter(msg);
      return;
    }
    const queue = (this.queue ??= []);
    // Past the hard bound the connection is already being closed: what ws
    // still emits from bytes it had read is dropped, not queued.
    if (this.qBytes > this.hardQueueBytes()) return;
    queue.push(msg);
    this.qBytes += data.length;
    if (queue.length - this.qHead > this.limits.maxQueuedMessages || this.qBytes > this.limits.maxQueuedBytes) this.overflow();
  }

  /**
   * The most the queue may hold whatever ws does: pausing the socket stops
   * new reads, but ws goes on emitting every message of the bytes it has,
   * and with permessage-deflate 64 KiB of them can inflate to megabytes.
   */
  private hardQueueBytes(): number {
    // Without inflation one read (64 KiB) bounds the overshoot already:
    // an ordinary peer whose handler is slow is paused, never closed.
    if (!hasDeflate(this.raw)) return Infinity;
    const max = this.limits.maxPayloadBytes;
    return this.limits.maxQueuedBytes + (max > 0 ? max : HARD_QUEUE_SLACK_BYTES) + ONE_READ_BYTES;
  }

  /** The peer sent more than the queue may ever hold (see {@link hardQueueBytes}). */
  protected abstract queueFlooded(): void;

  /** The queue is past its bound: pause reading — or, closing, drop the message just queued. */
  private overflow(): void {
    if (this.closeSent) {
      // Our close frame is out and reading must go on until the peer's
      // arrives (readUntilClosed): what the peer sends meanwhile, past the
      // bound, is dropped rather than queued without limit.
      const msg = this.queue!.pop()!;
      this.qBytes -= msg.data.length;
      return;
    }
    // ws emits every message of the current read even once paused, so the
    // queue can overshoot by one read's worth — bounded, never unbounded.
    if (!this.paused) {
      this.paused = true;
      this.raw.pause();
    }
    if (this.qBytes > this.hardQueueBytes()) this.queueFlooded();
  }

  /**
   * Our close frame is out: read on, resuming if paused. The close handshake
   * ends when the peer's close frame is read (then TCP closes at once, RFC
   * 6455 §7.1.1, and `closeCode` is the peer's); left paused, it would sit
   * unread until `closeTimeoutMs` dropped the connection.
   */
  protected readUntilClosed(): void {
    this.closeSent = true;
    if (!this.paused) return;
    this.paused = false;
    this.raw.resume();
  }

  /** Wakes the reader (with what is left, or null) once the connection has closed. */
  protected finishInbound(): void {
    const reader = this.reader;
    if (reader !== null) {
      this.reader = null;
      const task = reader.task!;
      reader.task = null;
      task.resume(this.queuedMessages > 0 ? this.take() : null);
    }
    const waiter = this.asyncWaiter;
    if (waiter !== null) {
      this.asyncWaiter = null;
      waiter(this.queuedMessages > 0 ? this.take() : null);
    }
  }
}
