/**
 * `HeaderFields` (and `RequestHeaders`): a read-only, `Headers`-like view of a parsed head. Names
 * match case-insensitively; values are decoded (latin1, trailing whitespace
 * trimmed) only when asked for, straight from the offsets the parser kept.
 *
 * @module
 */
import type { MessageHead } from "./llhttp/head.js";

/**
 * Case-insensitive, lazily decoded header fields of a parsed message
 * (request or response). Repeated fields are combined with ", "
 * (RFC 9110 §5.3), as `Headers.get` does.
 *
 * @example
 * req.headers.get("content-type");      // "application/json" or null
 * req.headers.has("x-request-id");
 * for (const [name, value] of req.headers) console.log(name, value);
 */
export class HeaderFields implements Iterable<[string, string]> {
  readonly #head: MessageHead;

  /** Wraps a parsed head; the server does this for you. */
  constructor(head: MessageHead) {
    this.#head = head;
  }

  /** Number of header field lines (repeated names counted separately). */
  get size(): number {
    return this.#head.headerCount;
  }

  /** The combined value of every field named `name`, or null. */
  get(name: string): string | null {
    const head = this.#head;
    const lower = name.toLowerCase();
    let i = head.indexOf(lower);
    if (i < 0) return null;
    let value = head.value(i);
    while ((i = head.indexOf(lower, i + 1)) >= 0) value += ", " + head.value(i);
    return value;
  }

  /** Every value of fields named `name`, uncombined (for Cookie-like fields). */
  getAll(name: string): string[] {
    const head = this.#head;
    const lower = name.toLowerCase();
    const values: string[] = [];
    for (let i = head.indexOf(lower); i >= 0; i = head.indexOf(lower, i + 1)) values.push(head.value(i));
    return values;
  }

  /** True when a field named `name` is present. */
  has(name: string): boolean {
    return this.#head.indexOf(name.toLowerCase()) >= 0;
  }

  /** `[lower-case name, value]` per field line, in wire order (repeats not combined). */
  *entries(): IterableIterator<[string, string]> {
    const head = this.#head;
    for (let i = 0; i < head.headerCount; i++) yield [head.name(i).toLowerCase(), head.value(i)];
  }

  /** Lower-case names, in wire order. */
  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name;
  }

  /** Values, in wire order. */
  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  /** Calls `fn(value, name)` per field line, like `Headers.forEach`. */
  forEach(fn: (value: string, name: string, headers: this) => void): void {
    for (const [name, value] of this.entries()) fn(value, name, this);
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  /** Names as sent (original case) and values, as Node's `rawHeaders` pairs. */
  raw(): [string, string][] {
    const head = this.#head;
    const out: [string, string][] = [];
    for (let i = 0; i < head.headerCount; i++) out.push([head.name(i), head.value(i)]);
    return out;
  }

  /** A plain object of lower-case names to combined values (for logging and JSON). */
  toJSON(): Record<string, string> {
    return fieldsObject(this.entries());
  }
}

/**
 * A plain object of `fields` (lower-case names), repeated names joined
 * with ", ". Any name the peer sent is an own property, even `__proto__`
 * or `constructor`.
 */
export function fieldsObject(fields: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of fields) {
    const prev = Object.hasOwn(out, name) ? out[name] : undefined;
    Object.defineProperty(out, name, { value: prev === undefined ? value : `${prev}, ${value}`, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** The header fields of a request the server received (`req.headers`). */
export class RequestHeaders extends HeaderFields {}
