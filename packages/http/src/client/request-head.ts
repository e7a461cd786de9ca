/**
 * Serializing a request head (RFC 9112 §3, §5). Every method, header name
 * and value is validated, so user input can never split a request (CR/LF
 * injection) — the client-side twin of the server's response checks.
 *
 * @module
 */
import { CRLF, FIELD_VALUE, TOKEN } from "../constants.js";

/** Request headers: a record (array values repeat the field) or a list of pairs. */
export type RequestHeadersInit = Readonly<Record<string, string | number | readonly string[]>> | Iterable<readonly [string, string]>;

/** How the body is framed on the wire. */
export type BodyFraming = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" };

/** What {@link serializeRequestHead} needs. */
export interface RequestHeadInit {
  method: string;
  /** origin-form target: `/path?query`. */
  path: string;
  /** The Host header value. */
  host: string;
  headers?: RequestHeadersInit | undefined;
  framing: BodyFraming;
}

/** Header fields the client writes itself from the body's framing. */
const FRAMING_FIELDS = new Set(["content-length", "transfer-encoding"]);

/** Calls `fn(name, value)` for every field of `headers`, in order. */
export function forEachHeader(headers: RequestHeadersInit | undefined, fn: (name: string, value: string) => void): void {
  if (headers === undefined) return;
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === "function") {
    for (const [name, value] of headers as Iterable<readonly [string, string]>) fn(name, String(value));
    return;
  }
  for (const [name, value] of Object.entries(headers as Record<string, string | number | readonly string[]>)) {
    if (Array.isArray(value)) for (const v of value) fn(name, String(v));
    else fn(name, String(value));
  }
}

/**
 * The request line and header section, ending in the blank line, as bytes.
 * `Content-Length` and `Transfer-Encoding` come from `init.framing` (user
 * values for them are dropped, so framing always matches the body sent);
 * `Host` is `init.host` unless the headers carry one.
 * Throws a TypeError for an invalid method, header name or value.
 *
 * @example
 * serializeRequestHead({ method: "GET", path: "/", host: "example.org", framing: { kind: "none" } });
 * // GET / HTTP/1.1\r\nHost: example.org\r\n\r\n
 */
export function serializeRequestHead(init: RequestHeadInit): Buffer {
  if (!TOKEN.test(init.method)) throw new TypeError(`invalid request method ${JSON.stringify(init.method)}`);
  if (!/^[\x21-\x7e]+$/.test(init.path)) throw new TypeError(`invalid request target ${JSON.stringify(init.path)}`);
  let fields = "";
  let hasHost = false;
  forEachHeader(init.headers, (name, value) => {
    if (!TOKEN.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    if (!FIELD_VALUE.test(value)) throw new TypeError(`invalid value for header ${name}: it contains CR, LF or NUL`);
    const lower = name.toLowerCase();
    if (FRAMING_FIELDS.has(lower)) return;
    if (lower === "host") hasHost = true;
    fields += `${name}: ${value}${CRLF}`;
  });
  let head = `${init.method} ${init.path} HTTP/1.1${CRLF}`;
  if (!hasHost) head += `host: ${init.host}${CRLF}`;
  head += fields;
  const f = init.framing;
  if (f.kind === "length") head += `content-length: ${f.length}${CRLF}`;
  else if (f.kind === "chunked") head += `transfer-encoding: chunked${CRLF}`;
  return Buffer.from(`${head}${CRLF}`, "latin1");
}
