/**
 * Response bytes on their way to the socket: one corked region per
 * connection, carved out of a slab shared by every connection.
 *
 * Why: a handler answering 16 pipelined requests must produce one socket
 * write, and building each response as its own Buffer would be an allocation
 * (and later a concat) per response. Instead every response of one kernel
 * drain is written back to back into the slab and handed to `Conn.send` as a
 * single view when the kernel goes idle (`Kernel.deferFlush`), which core
 * then writes in one syscall. The slab only ever grows forward: views already
 * handed out stay valid until Node has written them, and a full slab is
 * simply replaced (the old one is freed once its views are).
 *
 * @module
 */
import type { Conn, Flushable, Kernel } from "@skein/core";

const SLAB_BYTES = 256 * 1024;
/** Chunks at least this big are sent as they are rather than copied. */
const COPY_LIMIT_BYTES = 16 * 1024;

let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;

/**
 * The pending output of one connection.
 *
 * @example
 * out.latin1(head); out.bytes(body); // sent together when the kernel idles
 */
export class Output implements Flushable {
  /** @internal kernel bookkeeping for `deferFlush` */
  flushQueued = false;
  readonly #conn: Conn;
  readonly #kernel: Kernel;
  #buf: Buffer = slab;
  #start = 0;
  #end = 0;
  #closed = false;

  constructor(conn: Conn, kernel: Kernel) {
    this.#conn = conn;
    this.#kernel = kernel;
  }

  /** Bytes written here and not yet handed to the connection. */
  get pendingBytes(): number {
    return this.#end - this.#start;
  }

  /** Reserves `n` bytes at the end of this connection's region; returns the offset. */
  #reserve(n: number): number {
    // The region can grow only while nobody else has written after it.
    if (this.#end === this.#start || this.#buf !== slab || slabUsed !== this.#end || slabUsed + n > slab.length) {
      this.#send();
      if (slabUsed + n > slab.length) {
        slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, n));
        slabUsed = 0;
      }
      this.#buf = slab;
      this.#start = this.#end = slabUsed;
    }
    const at = this.#end;
    this.#end = slabUsed = at + n;
    if (!this.flushQueued) this.#kernel.deferFlush(this);
    return at;
  }

  /** Gives back the unused tail of the last reservation. */
  #trim(used: number): void {
    this.#end = slabUsed = used;
  }

  /** Appends a latin1 (one byte per char) string: heads, chunk sizes. */
  latin1(text: string): void {
    const at = this.#reserve(text.length);
    this.#buf.write(text, at, text.length, "latin1");
  }

  /** Appends a string as UTF-8. */
  utf8(text: string): void {
    // A UTF-16 unit is at most 3 UTF-8 bytes; the unused tail is given back.
    const max = text.length * 3;
    if (max >= COPY_LIMIT_BYTES) return this.bytes(Buffer.from(text, "utf8"));
    const at = this.#reserve(max);
    this.#trim(at + this.#buf.write(text, at, max, "utf8"));
  }

  /**
   * Appends bytes: copied when small; otherwise not copied but handed to
   * the socket at once (after what is pending), which usually passes them
   * to the operating system before this returns (see {@link holdsBytes}).
   */
  bytes(data: Uint8Array): void {
    if (data.length >= COPY_LIMIT_BYTES) {
      this.#send();
      if (!this.#closed && !this.#conn.isClosed) {
        this.#conn.send(data);
        this.#conn.flush();
      }
      return;
    }
    const at = this.#reserve(data.length);
    this.#buf.set(data, at);
  }

  /** Hands the pending region to the connection now (it is written when the kernel idles). */
  #send(): void {
    if (this.#end === this.#start) return;
    const view = this.#buf.subarray(this.#start, this.#end);
    this.#start = this.#end;
    if (!this.#closed && !this.#conn.isClosed) this.#conn.send(view);
  }

  /** True when a chunk of `length` bytes was handed over uncopied and the socket still holds part of it. */
  holdsBytes(length: number): boolean {
    return length >= COPY_LIMIT_BYTES && this.#conn.pendingBytes > 0;
  }

  /** Called by the kernel when its ready queue empties. */
  flush(): void {
    this.#send();
  }

  /** Drops anything pending and ignores later writes (the connection is gone). */
  close(): void {
    this.#closed = true;
    this.#start = this.#end;
  }
}
