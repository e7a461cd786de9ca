/**
 * Response headers, decoded lazily: a view over the parsed head's offsets.
 * Nothing becomes a string until a field is asked for, and a lookup compares
 * bytes without building the names.
 *
 * @module
 */
import type { MessageHead } from "../llhttp/index.js";

/**
 * The header fields of a response. Names are case-insensitive.
 *
 * @example
 * res.headers.get("content-type");   // "text/plain" or null
 * res.headers.getAll("set-cookie");  // every value, in order
 * for (const [name, value] of res.headers) console.log(name, value);
 */
export class ResponseHeaders implements Iterable<[string, string]> {
  readonly #head: MessageHead;

  /** @internal */
  constructor(head: MessageHead) {
    this.#head = head;
  }

  /** Number of header fields (repeated fields count each time). */
  get size(): number {
    return this.#head.headerCount;
  }

  /**
   * The field's value, or null when absent. Repeated fields are joined with
   * ", " (RFC 9110 §5.3); use {@link getAll} for Set-Cookie.
   */
  get(name: string): string | null {
    const head = this.#head;
    const lower = name.toLowerCase();
    let i = head.indexOf(lower);
    if (i < 0) return null;
    let value = head.value(i);
    while ((i = head.indexOf(lower, i + 1)) >= 0) value += `, ${head.value(i)}`;
    return value;
  }

  /** Every value of the field, in order (empty when absent). */
  getAll(name: string): string[] {
    const head = this.#head;
    const lower = name.toLowerCase();
    const values: string[] = [];
    for (let i = head.indexOf(lower); i >= 0; i = head.indexOf(lower, i + 1)) values.push(head.value(i));
    return values;
  }

  /** True when the field is present. */
  has(name: string): boolean {
    return this.#head.indexOf(name.toLowerCase()) >= 0;
  }

  /** `[name, value]` pairs as received (names keep their case). */
  *[Symbol.iterator](): Iterator<[string, string]> {
    const head = this.#head;
    for (let i = 0; i < head.headerCount; i++) yield [head.name(i), head.value(i)];
  }

  /** A plain object with lower-cased names; repeated fields joined with ", ". */
  toObject(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of this) {
      const lower = name.toLowerCase();
      out[lower] = lower in out ? `${out[lower]}, ${value}` : value;
    }
    return out;
  }
}
