/**
 * A parsed message head kept as offsets into the bytes it was parsed from.
 * Nothing is decoded into strings until someone asks.
 *
 * @module
 */
import { methodName } from "./constants.js";

/** ASCII lower-casing table for case-insensitive byte comparisons. */
export const LOWER: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = i >= 0x41 && i <= 0x5a ? i + 0x20 : i;
  return t;
})();

/**
 * True when `buf[start, start+len)` equals `lower` (an all-lower-case ASCII
 * string) ignoring ASCII case.
 *
 * @example
 * equalsIgnoreCase(buf, 0, 4, "host");
 */
export function equalsIgnoreCase(buf: Uint8Array, start: number, len: number, lower: string): boolean {
  if (len !== lower.length) return false;
  for (let i = 0; i < len; i++) if (LOWER[buf[start + i]!] !== lower.charCodeAt(i)) return false;
  return true;
}

// The last decoded target, by bytes: servers see the same few targets over
// and over, and comparing a few bytes is cheaper than decoding a string.
let lastTargetBytes = Buffer.alloc(64);
let lastTargetLength = -1;
let lastTarget = "";

function decodeTarget(buf: Buffer, start: number, len: number): string {
  if (len === lastTargetLength) {
    let i = 0;
    while (i < len && buf[start + i] === lastTargetBytes[i]) i++;
    if (i === len) return lastTarget;
  }
  const text = buf.toString("latin1", start, start + len);
  if (len <= 256) {
    if (len > lastTargetBytes.length) lastTargetBytes = Buffer.alloc(256);
    buf.copy(lastTargetBytes, 0, start, start + len);
    lastTargetLength = len;
    lastTarget = text;
  }
  return text;
}

/** {@link classifyField}: a field the parser does not track. */
export const FIELD_OTHER = 0;
/** {@link classifyField}: `Host`. */
export const FIELD_HOST = 1;
/** {@link classifyField}: `Expect`. */
export const FIELD_EXPECT = 2;
/** {@link classifyField}: `Content-Length`. */
export const FIELD_CONTENT_LENGTH = 3;
/** {@link classifyField}: `Transfer-Encoding`. */
export const FIELD_TRANSFER_ENCODING = 4;

/**
 * Which of the fields the server acts on (if any) the name at
 * `buf[start, start+len)` is, without building a string: a length switch,
 * then one case-insensitive comparison.
 *
 * @example
 * classifyField(Buffer.from("Content-Length"), 0, 14); // FIELD_CONTENT_LENGTH
 */
export function classifyField(buf: Uint8Array, start: number, len: number): number {
  switch (len) {
    case 4:
      return equalsIgnoreCase(buf, start, len, "host") ? FIELD_HOST : FIELD_OTHER;
    case 6:
      return equalsIgnoreCase(buf, start, len, "expect") ? FIELD_EXPECT : FIELD_OTHER;
    case 14:
      return equalsIgnoreCase(buf, start, len, "content-length") ? FIELD_CONTENT_LENGTH : FIELD_OTHER;
    case 17:
      return equalsIgnoreCase(buf, start, len, "transfer-encoding") ? FIELD_TRANSFER_ENCODING : FIELD_OTHER;
    default:
      return FIELD_OTHER;
  }
}

/**
 * The decimal number in `buf[start, start+len)`, skipping anything but
 * digits (whitespace around a Content-Length value llhttp has validated).
 *
 * @example
 * parseDigits(Buffer.from(" 42 "), 0, 4); // 42
 */
export function parseDigits(buf: Uint8Array, start: number, len: number): number {
  let n = 0;
  for (let p = start; p < start + len; p++) {
    const c = buf[p]!;
    if (c >= 0x30 && c <= 0x39) n = n * 10 + (c - 0x30);
  }
  return n;
}

/** `MessageHead.flags` bit: a Host header is present. */
export const HEAD_HAS_HOST = 1;
/** `MessageHead.flags` bit: a Transfer-Encoding header is present. */
export const HEAD_HAS_TRANSFER_ENCODING = 2;
/** `MessageHead.flags` bit: more than one Host header (a 400, RFC 9112 §3.2). */
export const HEAD_MULTIPLE_HOST = 4;
/** `MessageHead.flags` bit: more than one Transfer-Encoding field line. */
export const HEAD_MULTIPLE_TRANSFER_ENCODING = 8;

/** Where `buf[start, end)` ends without its trailing whitespace (SP, HTAB; RFC 9110 §5.5). */
function trimEnd(buf: Uint8Array, start: number, end: number): number {
  while (end > start && (buf[end - 1] === 0x20 || buf[end - 1] === 0x09)) end--;
  return end;
}

/**
 * Bytes allowed in a Host value: RFC 3986's `uri-host [ ":" port ]` —
 * unreserved, sub-delims, `%` of pct-encoded, `:` and the brackets of an
 * IP literal. Whitespace, `/`, `\`, `@`, `?`, `#`, quotes, controls and
 * non-ASCII are not.
 */
const HOST_BYTE: Uint8Array = (() => {
  const t = new Uint8Array(256);
  const allowed = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=%:[]";
  for (let i = 0; i < allowed.length; i++) t[allowed.charCodeAt(i)] = 1;
  return t;
})();

/**
 * True when `buf[start, start+len)`, less trailing whitespace, is a
 * syntactically valid Host value (RFC 9112 §3.2 wants a 400 otherwise).
 * Checks the characters, not the structure: like Go's net/http, it refuses
 * what could be smuggled into a URL or a log line, cheaply.
 *
 * @example
 * isValidHost(Buffer.from("example.com:8080"), 0, 16); // true
 * isValidHost(Buffer.from("a b"), 0, 3);                // false
 */
export function isValidHost(buf: Uint8Array, start: number, len: number): boolean {
  const end = trimEnd(buf, start, start + len);
  for (let i = start; i < end; i++) if (HOST_BYTE[buf[i]!] === 0) return false;
  return true;
}

/**
 * The head of one request or response.
 *
 * `spans` holds `[targetStart, targetLen, name0Start, name0Len, value0Start,
 * value0Len, …]` as offsets into `buf`: for a response the first pair is the
 * reason phrase. `buf` is a view of the socket data when the head arrived in
 * one read, or a private copy when it spanned reads.
 *
 * @example
 * head.methodName;            // "GET"
 * head.target;                // "/search?q=1" (decoded on first access)
 */
export class MessageHead {
  /** The bytes the spans point into. */
  readonly buf: Buffer;
  /** Offsets, see the class comment. */
  readonly spans: readonly number[];
  /** Number of header fields. */
  readonly headerCount: number;
  /** llhttp's method number (requests). */
  readonly method: number;
  /** Status code (responses; 0 for requests). */
  readonly status: number;
  /** HTTP major version. */
  readonly versionMajor: number;
  /** HTTP minor version. */
  readonly versionMinor: number;
  /** llhttp's keep-alive verdict (version and Connection header). */
  readonly keepAlive: boolean;
  /** An Upgrade (or CONNECT) that llhttp will hand over after this head. */
  readonly upgrade: boolean;
  /** Declared Content-Length, or -1 when absent. */
  readonly contentLength: number;
  /** Index of the Expect header field, or -1. */
  readonly expectIndex: number;
  /** Index of the (first) Host header field, or -1. */
  readonly hostIndex: number;
  /** Index of the (first) Transfer-Encoding header field, or -1. */
  readonly transferEncodingIndex: number;
  /** `HEAD_*` bits. */
  readonly flags: number;
  #target: string | undefined;

  constructor(
    buf: Buffer, spans: readonly number[], headerCount: number, method: number, status: number,
    versionMajor: number, versionMinor: number, keepAlive: boolean, upgrade: boolean,
    contentLength: number, expectIndex: number, flags: number,
    hostIndex = -1, transferEncodingIndex = -1,
  ) {
    this.buf = buf;
    this.spans = spans;
    this.headerCount = headerCount;
    this.method = method;
    this.status = status;
    this.versionMajor = versionMajor;
    this.versionMinor = versionMinor;
    this.keepAlive = keepAlive;
    this.upgrade = upgrade;
    this.contentLength = contentLength;
    this.expectIndex = expectIndex;
    this.flags = flags;
    this.hostIndex = hostIndex;
    this.transferEncodingIndex = transferEncodingIndex;
  }

  /** The method token ("GET"); interned, no allocation. */
  get methodName(): string {
    return methodName(this.method);
  }

  /** The request target (requests) or reason phrase (responses), decoded once. */
  get target(): string {
    return (this.#target ??= decodeTarget(this.buf, this.spans[0]!, this.spans[1]!));
  }

  /** Header field name `i` as written on the wire. */
  name(i: number): string {
    const s = this.spans[2 + 4 * i]!;
    return this.buf.toString("latin1", s, s + this.spans[3 + 4 * i]!);
  }

  /** Header field value `i`, without trailing whitespace (RFC 9110 §5.5). */
  value(i: number): string {
    const s = this.spans[4 + 4 * i]!;
    return this.buf.toString("latin1", s, trimEnd(this.buf, s, s + this.spans[5 + 4 * i]!));
  }

  /** True when header field value `i`, less trailing whitespace, equals `lower` (lower-case) ignoring case. No string is built. */
  valueIs(i: number, lower: string): boolean {
    const s = this.spans[4 + 4 * i]!;
    return equalsIgnoreCase(this.buf, s, trimEnd(this.buf, s, s + this.spans[5 + 4 * i]!) - s, lower);
  }

  /** True when header field name `i` equals `lower` (lower-case) ignoring case. */
  nameIs(i: number, lower: string): boolean {
    return equalsIgnoreCase(this.buf, this.spans[2 + 4 * i]!, this.spans[3 + 4 * i]!, lower);
  }

  /** Index of the first header named `lower` (lower-case), or -1. No strings are built. */
  indexOf(lower: string, from = 0): number {
    for (let i = from; i < this.headerCount; i++) if (this.nameIs(i, lower)) return i;
    return -1;
  }
}
