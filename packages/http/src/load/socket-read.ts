/**
 * The one wait of a load connection: "the next bytes from the server", as
 * an operation on a raw socket taken over from core's `Conn` (`detach()`).
 *
 * Why not `Conn.recv`: at 10,000 connections every byte per connection
 * counts, and this path needs none of `Conn`'s buffering or corking (one
 * read, one parse, one write). So the socket's listeners are four shared
 * functions that find their connection through a symbol property — no
 * closure per connection — and the instruction object is reused for every
 * read of a connection: no allocation per response batch.
 *
 * @module
 */
import type { Socket } from "node:net";
import { Instruction, toConnectionError, type Task, type Teardown } from "@skein/core";

const EMPTY = Buffer.alloc(0);
const kReader = Symbol("skein-load reader");

type ReaderSocket = Socket & { [kReader]: SocketReader };

/**
 * Reads from one socket on behalf of one task: `yield* reader.read()`
 * returns the next chunk, an empty buffer at EOF, or throws the socket's
 * typed error (`ConnectionResetError`…).
 */
export class SocketReader extends Instruction<Buffer> {
  readonly socket: Socket;
  #task: Task<unknown> | null = null;
  /** Chunks that arrived while the task was not waiting (it was queued to run). */
  #pending: Buffer[] | null = null;
  #eof = false;
  #error: Error | null = null;

  constructor(socket: Socket) {
    super();
    this.socket = socket;
    (socket as ReaderSocket)[kReader] = this;
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onError);
    socket.on("close", onEnd);
    socket.resume();
  }

  get description(): string {
    return "load: response bytes";
  }

  /** `yield* reader.read()`: the next chunk. Returns this same instruction, reused for every read. */
  read(): this {
    return this;
  }

  enter(task: Task<unknown>): Teardown | void {
    const pending = this.#pending;
    if (pending !== null && pending.length > 0) return task.resume(pending.shift());
    if (this.#error !== null) return task.fail(this.#error);
    if (this.#eof) return task.resume(EMPTY);
    this.#task = task;
    return cancelRead;
  }

  /** Closes the socket at once (TCP reset); a waiting read returns EOF. */
  abort(): void {
    this.#eof = true;
    this.#wake();
    const s = this.socket;
    s.off("data", onData);
    s.off("end", onEnd);
    s.off("close", onEnd);
    // The error listener stays: a late error must not crash the process.
    // A TLS socket's handle cannot send a reset (resetAndDestroy throws).
    const tls = (s as { encrypted?: boolean }).encrypted === true;
    if (typeof s.resetAndDestroy === "function" && !tls && !s.destroyed && s.remoteAddress !== undefined) s.resetAndDestroy();
    else s.destroy();
  }

  /** @internal */
  onData(chunk: Buffer): void {
    const task = this.#task;
    if (task !== null) {
      this.#task = null;
      task.resume(chunk);
    } else (this.#pending ??= []).push(chunk);
  }

  /** @internal */
  onEnd(): void {
    this.#eof = true;
    this.#wake();
  }

  /** @internal */
  onError(err: Error): void {
    this.#error ??= toConnectionError(err as NodeJS.ErrnoException);
    this.#wake();
  }

  #wake(): void {
    const task = this.#task;
    if (task === null) return;
    this.#task = null;
    if (this.#error !== null) task.fail(this.#error);
    else task.resume(EMPTY);
  }

  /** @internal the teardown, called with `this` = the instruction */
  cancel(): void {
    this.#task = null;
  }
}

function onData(this: ReaderSocket, chunk: Buffer): void {
  this[kReader].onData(chunk);
}
function onEnd(this: ReaderSocket): void {
  this[kReader].onEnd();
}
function onError(this: ReaderSocket, err: Error): void {
  this[kReader].onError(err);
}
function cancelRead(this: SocketReader): void {
  this.cancel();
}
