/**
 * `Spill`: where the pieces of a head that arrives across several reads are
 * copied, in arrival order, so that a span continued in the next read stays
 * contiguous. Heads that arrive in one read never need one.
 *
 * @module
 */

/**
 * A growable byte buffer that is only appended to.
 *
 * @example
 * const spill = new Spill(64);
 * const at = spill.append(chunk, 10, 5); // chunk[10, 15) now at spill.buf[at, at+5)
 */
export class Spill {
  /** The bytes; valid up to {@link length}. Replaced when it grows. */
  buf: Buffer;
  /** Bytes used. */
  length = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, capacity));
  }

  /** Copies `src[off, off+len)` to the end; returns where it starts. */
  append(src: Buffer, off: number, len: number): number {
    const start = this.length;
    if (start + len > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, start + len));
      this.buf.copy(bigger, 0, 0, start);
      this.buf = bigger;
    }
    src.copy(this.buf, start, off, off + len);
    this.length = start + len;
    return start;
  }
}
