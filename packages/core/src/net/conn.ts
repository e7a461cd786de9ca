/**
 * A connection as operations. Reads are buffered per connection (the socket
 * is paused once `highWaterMark` bytes wait unread, so a slow reader bounds
 * memory). Writes are corked: everything `send` queues while tasks run goes
 * to the socket in one write when the kernel's ready queue empties (uWS's
 * cork buffer), so a handler that answers 16 pipelined requests produces one
 * syscall.
 */
import type { Socket } from "node:net";
import { ConnectionClosedError, ProtocolError, toConnectionError } from "../errors.js";
import type { Flushable, Kernel } from "../kernel.js";
import { Instruction, type Teardown } from "../operation.js";
import { timeout } from "../scope.js";
import type { Operation } from "../operation.js";
import type { Task } from "../task.js";

const EMPTY = Buffer.alloc(0);

/** Options for reads with a deadline. */
export interface RecvOptions {
  /**
   * Throw `TimeoutError` if the read is not done within this many ms: for
   * `recv`, until some bytes arrive; for `recvExactly` and `readLine`, until
   * the whole result has (bytes received by then stay buffered).
   */
  timeoutMs?: number;
}

/** Tuning for a {@link Conn}. */
export interface ConnOptions {
  /** Unread bytes above which the socket is paused. Default 64 KiB. */
  readHighWaterMark?: number;
  /** Queued outbound bytes above which `sendAll` suspends. Default 64 KiB. */
  writeHighWaterMark?: number;
}

class Recv extends Instruction<Buffer> {
  task: Task<unknown> | null = null;
  constructor(
    private readonly conn: Conn,
    readonly max: number,
  ) {
    super();
  }
  get description(): string {
    return `recv(${this.conn.remote})`;
  }
  enter(task: Task<unknown>): Teardown | void {
    return this.conn.enterRecv(this, task);
  }
  cancel(this: Recv): void {
    this.task = null;
    this.conn.reader = null;
  }
}

class Drain extends Instruction<void> {
  task: Task<unknown> | null = null;
  /** The next task waiting for the same drain (several tasks may send on one connection). */
  nextWaiter: Drain | null = null;
  constructor(
    private readonly conn: Conn,
    /** Resume once at most this many bytes wait to be written. */
    readonly limit: number,
  ) {
    super();
  }
  get description(): string {
    return `sendAll(${this.conn.remote})`;
  }
  enter(task: Task<unknown>): Teardown | void {
    return this.conn.enterDrain(this, task);
  }
  cancel(this: Drain): void {
    // Unlinked only at the head; one further down is skipped when the drain comes.
    this.task = null;
    if (this.conn.drainer === this) this.conn.drainer = this.nextWaiter;
  }
}

/**
 * One TCP, TLS or Unix-socket connection.
 *
 * @example
 * function* echo(conn: Conn) {
 *   for (;;) {
 *     const data = yield* conn.recv();
 *     if (data.length === 0) return; // EOF
 *     yield* conn.sendAll(data);
 *   }
 * }
 */
export class Conn implements Flushable {
  readonly socket: Socket;
  /** @internal */ reader: Recv | null = null;
  private plainRecv: Recv | null = null;
  /** @internal tasks waiting in `sendAll` for the socket to drain (a list through `Drain.nextWaiter`) */
  drainer: Drain | null = null;
  /** @internal */ flushQueued = false;
  private readonly kernel: Kernel;
  private readonly readHwm: number;
  private readonly writeHwm: number;
  // Read side: leftover of a partly consumed chunk, then whole chunks
  // (allocated on first use: a reader that keeps up never needs it).
  private chunks: Buffer[] | null = null;
  private chunkHead = 0;
  private buffered = 0;
  private paused = false;
  private eof = false;
  private error: Error | null = null;
  // Write side: what `send` queued since the last flush — one buffer (the
  // usual case, no array), or a list of them.
  private out: Buffer | Buffer[] | null = null;
  private outBytes = 0;
  private writeClosed = false;
  private detached = false;
  /** `close()` or `abort()` was called: reads now fail with ConnectionClosedError. */
  private closedHere = false;
  /** Waiting for what was sent so far to reach the operating system (see `whenWritten`). */
  private written: ((ok: boolean) => void)[] | null = null;

  constructor(socket: Socket, kernel: Kernel, options: ConnOptions = {}) {
    this.socket = socket;
    this.kernel = kernel;
    this.readHwm = options.readHighWaterMark ?? 64 * 1024;
    this.writeHwm = options.writeHighWaterMark ?? 64 * 1024;
    // One set of module-level listeners serves every connection (they find
    // their Conn through the socket), instead of five closures per Conn.
    (socket as OwnedSocket)[kConn] = this;
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onError);
    socket.on("close", onClose);
    socket.on("drain", onDrain);
  }

  /** `host:port` of the peer (or the socket path). Built on demand. */
  get remote(): string {
    const s = this.socket;
    return s.remoteAddress !== undefined ? `${s.remoteAddress}:${s.remotePort}` : (s.localAddress ?? "unix");
  }

  /** Peer address, when it is an IP socket. */
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }
  get localPort(): number | undefined {
    return this.socket.localPort;
  }
  /** True when the peer has finished sending (EOF seen) or the connection failed. */
  get readClosed(): boolean {
    return this.eof || this.error !== null;
  }
  /** The error the connection failed with (a reset, a broken pipe), or null. */
  get failure(): Error | null {
    return this.error;
  }

  /** True after `close`, `shutdown` or `abort`, or once the socket is gone. */
  get isClosed(): boolean {
    return this.writeClosed;
  }
  /** Bytes received and not yet consumed. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  // ---- reading ----------------------------------------------------------

  /**
   * The next bytes from the peer (at most `max`), suspending until some
   * arrive. Returns an empty buffer at EOF. Data received before a reset is
   * returned first; then the typed error is thrown.
   */
  recv(options?: RecvOptions & { max?: number }): Operation<Buffer> {
    // The common case — recv() with no options — reuses one instruction per
    // connection (only one task may read at a time anyway). Not while a yield*
    // of it is unfinished: a task waits in it (a second reader is refused with
    // a TypeError and must not reset its state), or a reader cancelled a
    // moment ago has not yet run to take the Cancelled, and the next reader
    // gets its own.
    const cached = this.plainRecv;
    const op =
      options === undefined && this.reader === null && (cached === null || !cached.inUse)
        ? (cached ?? (this.plainRecv = new Recv(this, Infinity)))
        : new Recv(this, options?.max ?? Infinity);
    return options?.timeoutMs !== undefined ? timeout(options.timeoutMs, op) : op;
  }

  /**
   * Exactly `n` bytes; throws `ProtocolError` (code SKEIN_ERR_SHORT_READ) on
   * EOF first. `timeoutMs` bounds the whole read, not each chunk. Whatever
   * ends it early (EOF, the deadline, cancellation, a reset), the bytes
   * already received go back to the read buffer: nothing is lost.
   */
  *recvExactly(n: number, options?: RecvOptions): Generator<unknown, Buffer, any> {
    if (options?.timeoutMs !== undefined) return yield* timeout(options.timeoutMs, this.recvExactly(n));
    const parts: Buffer[] = [];
    let got = 0;
    try {
      while (got < n) {
        const chunk = yield* this.recv({ max: n - got });
        if (chunk.length === 0) throw new ProtocolError("SKEIN_ERR_SHORT_READ", `connection closed after ${got} of ${n} bytes`);
        parts.push(chunk);
        got += chunk.length;
      }
    } catch (e) {
      this.unshiftAll(parts);
      throw e;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /**
   * One line, including its `\n`. Returns what remains (possibly empty) at
   * EOF. Throws `ProtocolError` (code SKEIN_ERR_LINE_TOO_LONG) past `maxBytes`
   * (default 64 KiB). `timeoutMs` bounds the whole line, so a peer trickling
   * bytes cannot hold it open. On any error the bytes already received go
   * back to the read buffer (the rest of the input stays unread).
   */
  *readLine(options?: RecvOptions & { maxBytes?: number }): Generator<unknown, Buffer, any> {
    const max = options?.maxBytes ?? 64 * 1024;
    if (options?.timeoutMs !== undefined) return yield* timeout(options.timeoutMs, this.readLine({ maxBytes: max }));
    const parts: Buffer[] = [];
    let got = 0;
    try {
      for (;;) {
        const chunk = yield* this.recv();
        if (chunk.length === 0) return Buffer.concat(parts, got);
        const nl = chunk.indexOf(10);
        const take = nl === -1 ? chunk.length : nl + 1;
        if (got + take > max) {
          this.unshift(chunk);
          throw new ProtocolError("SKEIN_ERR_LINE_TOO_LONG", `line longer than ${max} bytes`);
        }
        if (take < chunk.length) this.unshift(chunk.subarray(take));
        parts.push(take < chunk.length ? chunk.subarray(0, take) : chunk);
        got += take;
        if (nl !== -1) return parts.length === 1 ? parts[0]! : Buffer.concat(parts, got);
      }
    } catch (e) {
      this.unshiftAll(parts);
      throw e;
    }
  }

  /** Puts `parts` (in their order) back at the front of the read buffer. */
  private unshiftAll(parts: Buffer[]): void {
    for (let i = parts.length - 1; i >= 0; i--) this.unshift(parts[i]!);
  }

  /** Puts bytes back at the front of the read buffer (a parser read too far). */
  unshift(data: Buffer): void {
    if (data.length === 0) return;
    const chunks = (this.chunks ??= []);
    if (this.chunkHead > 0) chunks[--this.chunkHead] = data;
    else chunks.unshift(data);
    this.buffered += data.length;
  }

  /** @internal */
  enterRecv(op: Recv, task: Task<unknown>): Teardown | void {
    if (this.reader !== null) throw new TypeError(`two tasks cannot recv() from ${this.remote} at once`);
    if (this.closedHere) return task.fail(new ConnectionClosedError(`connection to ${this.remote} was closed`));
    if (this.buffered > 0) return task.resume(this.take(op.max));
    if (this.error !== null) return task.fail(this.error);
    if (this.eof || this.detached) return task.resume(EMPTY);
    op.task = task;
    this.reader = op;
    if (this.paused) this.resumeSocket();
    return op.cancel;
  }

  /** Takes up to `max` buffered bytes (there are some). */
  private take(max: number): Buffer {
    const chunks = this.chunks!;
    const chunk = chunks[this.chunkHead]!;
    let out: Buffer;
    if (chunk.length <= max) {
      out = chunk;
      chunks[this.chunkHead++] = EMPTY;
      if (this.chunkHead === chunks.length) {
        chunks.length = 0;
        this.chunkHead = 0;
      }
    } else {
      out = chunk.subarray(0, max);
      chunks[this.chunkHead] = chunk.subarray(max);
    }
    this.buffered -= out.length;
    if (this.paused && this.buffered < this.readHwm) this.resumeSocket();
    return out;
  }

  private resumeSocket(): void {
    this.paused = false;
    this.socket.resume();
  }

  /** @internal */ handleData(chunk: Buffer): void {
    const reader = this.reader;
    if (reader !== null && this.buffered === 0) {
      this.reader = null;
      const task = reader.task!;
      reader.task = null;
      if (chunk.length <= reader.max) return task.resume(chunk);
      (this.chunks ??= []).push(chunk.subarray(reader.max));
      this.buffered += chunk.length - reader.max;
      return task.resume(chunk.subarray(0, reader.max));
    }
    (this.chunks ??= []).push(chunk);
    this.buffered += chunk.length;
    if (this.buffered >= this.readHwm && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** @internal */ handleEnd(): void {
    this.eof = true;
    this.wakeReader();
  }

  /** @internal */ handleError(err: Error): void {
    if (this.error === null) this.error = toConnectionError(err as NodeJS.ErrnoException);
    this.writeClosed = true;
    this.wakeReader();
    this.wakeDrainer();
  }

  /** @internal */ handleClose(): void {
    this.eof = true;
    this.writeClosed = true;
    this.wakeReader();
    this.wakeDrainer();
    this.removeListeners();
  }

  /** @internal the socket was destroyed before this Conn listened (it failed with `error`, if any). */
  socketGone(error: Error | null): void {
    if (error !== null) this.handleError(error);
    this.handleClose();
  }

  /** After our own close: a task blocked in `recv` fails now, and so does every later read. */
  private closeReads(): void {
    if (this.closedHere) return;
    this.closedHere = true;
    this.takeReader()?.fail(new ConnectionClosedError(`connection to ${this.remote} was closed`));
  }

  private wakeReader(): void {
    const task = this.takeReader();
    if (task === null) return;
    if (this.error !== null) task.fail(this.error);
    else task.resume(EMPTY);
  }

  /** Detaches the task blocked in `recv`, if any, for the caller to complete. */
  private takeReader(): Task<unknown> | null {
    const reader = this.reader;
    if (reader === null) return null;
    this.reader = null;
    const task = reader.task!;
    reader.task = null;
    return task;
  }

  // ---- writing ----------------------------------------------------------

  /**
   * Queues `data` for the peer without waiting. Bytes queued by all tasks
   * before the kernel next goes idle leave in one write. Throws
   * `ConnectionClosedError` after close, or the connection's error.
   */
  send(data: Buffer | Uint8Array | string): void {
    if (this.writeClosed) throw this.error ?? new ConnectionClosedError(`connection to ${this.remote} is closed`);
    const buf = typeof data === "string" ? Buffer.from(data) : (data as Buffer);
    if (buf.length === 0) return;
    const out = this.out;
    if (out === null) this.out = buf;
    else if (Array.isArray(out)) out.push(buf);
    else this.out = [out, buf];
    this.outBytes += buf.length;
    this.kernel.deferFlush(this);
  }

  /**
   * Queues `data` and suspends while the outbound buffer is above the
   * write high-water mark (the peer reads slowly), so a sender cannot
   * buffer without bound.
   */
  sendAll(data: Buffer | Uint8Array | string): Instruction<void> {
    this.send(data);
    return new Drain(this, this.writeHwm);
  }

  /**
   * Writes what is queued now and waits until the socket holds none of it:
   * every byte given to `send` has been handed to the operating system, so
   * a caller may reuse the buffers it sent.
   */
  drained(): Instruction<void> {
    return new Drain(this, 0); // entering it flushes what is queued
  }

  /** Outbound bytes not yet taken by the operating system. */
  get pendingBytes(): number {
    return this.outBytes + this.socket.writableLength;
  }

  /**
   * @internal A measure that falls whenever the peer reads, for telling a
   * slow reader from a stalled one: `pendingBytes` stays put while one
   * large write goes out piece by piece (Node counts a write until it is
   * all written), so add what libuv still holds of the write in progress.
   */
  get unsentMeasure(): number {
    type Handle = { writeQueueSize?: number } | null | undefined;
    const s = this.socket as Socket & { _handle?: Handle; _parent?: { _handle?: Handle } | null };
    // On TLS only the TCP socket underneath shows the progress.
    return this.pendingBytes + (s._handle?.writeQueueSize ?? 0) + (s._parent?._handle?.writeQueueSize ?? 0);
  }

  /** @internal */
  enterDrain(op: Drain, task: Task<unknown>): Teardown | void {
    if (this.outBytes + this.socket.writableLength <= op.limit) return task.resume();
    if (this.error !== null) return task.fail(this.error);
    if (this.writeClosed) return task.fail(new ConnectionClosedError());
    this.flush();
    if (!this.socket.writableNeedDrain) {
      // No 'drain' is due: the socket holds less than its own high-water
      // mark. Enough for sendAll; drained() must see it all written, so it
      // waits for an empty write queued behind the rest.
      if (op.limit > 0 || this.socket.writableLength === 0) return task.resume();
      this.socket.write(EMPTY, () => this.wakeDrainer());
    }
    op.task = task;
    op.nextWaiter = this.drainer;
    this.drainer = op;
    return op.cancel;
  }


  /** @internal wakes every task waiting in `sendAll`, in the order they began to wait */
  wakeDrainer(): void {
    // The list is newest first: reverse it (it is short) so the first to wait is the first to run.
    let d = this.drainer;
    this.drainer = null;
    let oldest: Drain | null = null;
    while (d !== null) {
      const next = d.nextWaiter;
      d.nextWaiter = oldest;
      oldest = d;
      d = next;
    }
    d = oldest;
    while (d !== null) {
      const task = d.task;
      const next = d.nextWaiter;
      d.task = null;
      d.nextWaiter = null;
      if (task !== null) {
        if (this.error !== null) task.fail(this.error);
        else if (this.socket.destroyed) task.fail(new ConnectionClosedError());
        else task.resume();
      }
      d = next;
    }
  }

  /** Writes everything queued by `send` now, in one write. Called by the kernel. */
  flush(): void {
    const out = this.out;
    if (out !== null) {
      const bytes = this.outBytes;
      // Detached before writing: a send() from inside a write starts anew.
      this.out = null;
      this.outBytes = 0;
      const socket = this.socket;
      if (!socket.destroyed) {
        if (!Array.isArray(out)) socket.write(out);
        else if (bytes <= 64 * 1024) socket.write(Buffer.concat(out, bytes));
        else {
          // Large payloads: let the stream gather them with writev, no copy.
          socket.cork();
          for (const b of out) socket.write(b);
          socket.uncork();
        }
      }
    }
    if (this.written !== null) this.settleWritten();
  }

  /**
   * Calls `done(true)` once everything sent so far has been handed to the
   * operating system (which says nothing of the peer having read it), or
   * `done(false)` if the connection failed or was aborted with some of it
   * unsent. Never before it returns. For a server to tell a response went
   * out whole (an access log) without a write of its own per response.
   */
  whenWritten(done: (ok: boolean) => void): void {
    (this.written ??= []).push(done);
    this.kernel.deferFlush(this);
  }

  /** After a flush: tells the `whenWritten` callbacks, now if the socket took everything, else when it has. */
  private settleWritten(): void {
    const waiting = this.written!;
    this.written = null;
    let told = false;
    const tell = (ok: boolean): void => {
      if (told) return;
      told = true;
      for (const done of waiting) done(ok);
    };
    const socket = this.socket;
    if (socket.writableLength === 0 && (!socket.destroyed || socket.writableFinished)) {
      // Not from inside the kernel's flush: the callbacks may wake tasks.
      queueMicrotask(() => tell(this.error === null || socket.writableFinished));
    } else if (socket.destroyed) queueMicrotask(() => tell(false));
    else if (socket.writableEnded) {
      socket.once("finish", () => tell(true));
      socket.once("close", () => tell(socket.writableFinished));
    } else socket.write(EMPTY, (err) => tell(err == null));
  }

  // ---- closing ----------------------------------------------------------

  /** Sends queued data, then FIN: the peer reads EOF; we can still read. */
  shutdown(): void {
    if (this.writeClosed) return;
    this.flush();
    this.writeClosed = true;
    this.socket.end();
  }

  /**
   * Closes the connection gracefully: queued data is sent, then FIN; the
   * socket is destroyed once the peer closes too (or after `lingerMs`,
   * default 5000). Reading is over: a task blocked in `recv` and every later
   * read get `ConnectionClosedError`. Idempotent.
   */
  close(lingerMs = 5000): void {
    if (this.detached) return;
    this.closeReads();
    if (!this.writeClosed) {
      this.flush();
      this.writeClosed = true;
      this.socket.end();
    }
    if (!this.socket.destroyed) {
      // Read and discard until the peer's FIN; nothing will consume it now.
      this.socket.off("data", onData);
      this.socket.on("data", ignore);
      this.socket.resume();
      this.linger(lingerMs);
    }
  }

  /**
   * After close(): the socket goes once the peer has closed too, or
   * lingerMs after our last byte and FIN went out (nginx's lingering_time:
   * in all, not an idle timeout a peer could keep resetting by trickling
   * bytes; closed connections no longer count against maxConnections).
   * While the last bytes are still going out, only a peer that reads none
   * of them for lingerMs is dropped: a long last download is not cut.
   */
  private linger(lingerMs: number): void {
    const socket = this.socket;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const finalCountdown = (): void => {
      timer = setTimeout(() => socket.destroy(), lingerMs);
      timer.unref?.();
    };
    if (socket.writableFinished) finalCountdown();
    else {
      let last = this.unsentMeasure;
      const watch = setInterval(() => {
        const now = this.unsentMeasure;
        if (now >= last) socket.destroy();
        last = now;
      }, lingerMs);
      watch.unref?.();
      socket.once("finish", () => {
        clearInterval(watch);
        finalCountdown();
      });
      socket.once("close", () => clearInterval(watch));
    }
    socket.once("close", () => {
      if (timer !== null) clearTimeout(timer);
    });
  }

  /** Closes at once, discarding queued data (TCP RST when possible). */
  abort(): void {
    this.closeReads();
    this.out = null;
    this.outBytes = 0;
    const waiting = this.written;
    this.written = null;
    if (waiting !== null) queueMicrotask(() => { for (const done of waiting) done(false); });
    this.writeClosed = true;
    // A TLS socket's handle cannot send a reset (resetAndDestroy throws): destroy it.
    const tls = (this.socket as { encrypted?: boolean }).encrypted === true;
    if (typeof this.socket.resetAndDestroy === "function" && !tls && !this.socket.destroyed && this.socket.remoteAddress !== undefined) this.socket.resetAndDestroy();
    else this.socket.destroy();
  }

  /**
   * Hands the raw socket to other code (an HTTP Upgrade, a WebSocket): flushes
   * queued output, removes Skein's listeners and returns the socket paused,
   * with the bytes read but not consumed as `head`. The Conn is unusable after.
   */
  detach(): { socket: Socket; head: Buffer } {
    this.flush();
    this.detached = true;
    this.writeClosed = true;
    const head = this.buffered === 0 ? EMPTY : Buffer.concat(this.chunks!.slice(this.chunkHead), this.buffered);
    this.chunks = null;
    this.chunkHead = 0;
    this.buffered = 0;
    this.removeListeners();
    // Let the Conn be collected while the new owner keeps the socket
    // (assigned, not deleted: deleting would slow every socket property).
    (this.socket as Socket & { [kConn]: Conn | undefined })[kConn] = undefined;
    this.socket.pause();
    return { socket: this.socket, head };
  }

  private removeListeners(): void {
    const s = this.socket;
    s.off("data", onData);
    s.off("end", onEnd);
    s.off("close", onClose);
    s.off("drain", onDrain);
    // Keep an error listener: an unhandled 'error' would crash the process.
    s.off("error", onError);
    if (!this.detached) s.on("error", ignore);
  }
}

function ignore(): void {}

const kConn = Symbol("skein.conn");
type OwnedSocket = Socket & { [kConn]: Conn };

function onData(this: Socket, chunk: Buffer): void {
  (this as OwnedSocket)[kConn].handleData(chunk);
}
function onEnd(this: Socket): void {
  (this as OwnedSocket)[kConn].handleEnd();
}
function onError(this: Socket, err: Error): void {
  (this as OwnedSocket)[kConn].handleError(err);
}
function onClose(this: Socket): void {
  (this as OwnedSocket)[kConn].handleClose();
}
function onDrain(this: Socket): void {
  (this as OwnedSocket)[kConn].wakeDrainer();
}
