/**
 * Serialization of response heads: validates handler-supplied header fields
 * (so a value can never split a response), notes the ones that affect
 * framing, and writes the status line and fields as one latin1 string.
 *
 * @module
 */
import { CRLF, FIELD_VALUE, TOKEN } from "./constants.js";
import { dateLine } from "./date.js";
import { HttpError } from "./errors.js";
import { isValidStatus, statusLine } from "./status.js";

/**
 * Response header fields as a handler writes them: an object (array values
 * become repeated fields, `undefined` is skipped) or a list of pairs.
 *
 * @example
 * res.start(200, { "content-type": "text/html", "set-cookie": ["a=1", "b=2"] });
 * res.start(200, [["content-type", "text/html"], ["x-id", "7"]]);
 */
export type HeaderInit =
  | Readonly<Record<string, string | number | readonly string[] | undefined>>
  | ReadonlyArray<readonly [string, string | number]>;

/** Header fields serialized and inspected by {@link serializeFields}. */
export interface SerializedFields {
  /** `"Name: value\r\n"` lines, in order. */
  readonly text: string;
  /** The Content-Length the handler declared, or -1. */
  readonly contentLength: number;
  /** The handler declared `Transfer-Encoding: chunked`. */
  readonly chunked: boolean;
  /** The handler's Connection field contains the `close` option. */
  readonly close: boolean;
  /** The handler supplied its own Date field. */
  readonly hasDate: boolean;
  /** The handler supplied its own Content-Type field. */
  readonly hasContentType: boolean;
  /** The fields as `[name, value]` pairs (for adapters onto other servers). */
  readonly pairs: readonly (readonly [string, string])[];
}

/** No fields at all (shared; the common case for prepared responses). */
export const NO_FIELDS: SerializedFields = Object.freeze({
  text: "", contentLength: -1, chunked: false, close: false, hasDate: false, hasContentType: false, pairs: [],
});

interface Acc {
  text: string;
  contentLength: number;
  chunked: boolean;
  close: boolean;
  hasDate: boolean;
  hasContentType: boolean;
  pairs: [string, string][];
}

function invalid(message: string): HttpError {
  return new HttpError("HTTP_ERR_INVALID_RESPONSE", message);
}

function addField(acc: Acc, name: string, raw: string | number): void {
  if (!TOKEN.test(name)) throw invalid(`invalid header name ${JSON.stringify(name)}`);
  const value = typeof raw === "number" ? String(raw) : raw;
  if (typeof value !== "string" || !FIELD_VALUE.test(value)) {
    throw invalid(`invalid value for header ${name}: CR, LF, NUL and control characters are not allowed (RFC 9110 §5.5)`);
  }
  switch (name.length) {
    case 4:
      if (name.toLowerCase() === "date") acc.hasDate = true;
      break;
    case 10:
      if (name.toLowerCase() === "connection") {
        if (/(^|,)\s*close\s*(,|$)/i.test(value)) acc.close = true;
        // close and keep-alive are the server's to say, from the connection's
        // fate (a handler's keep-alive beside the server's close would
        // contradict it; `close` is kept as the flag); other options, such
        // as Upgrade, stay.
        if (/^\s*(close|keep-alive)\s*(,\s*(close|keep-alive)\s*)*$/i.test(value)) return;
      }
      break;
    case 12:
      if (name.toLowerCase() === "content-type") acc.hasContentType = true;
      break;
    case 14:
      if (name.toLowerCase() === "content-length") {
        // RFC 9110 §8.6: 1*DIGIT, and one value per message.
        if (!/^\d{1,15}$/.test(value)) throw invalid(`invalid Content-Length ${JSON.stringify(value)}`);
        if (acc.contentLength >= 0) throw invalid("more than one Content-Length");
        acc.contentLength = Number(value);
      }
      break;
    case 17:
      if (name.toLowerCase() === "transfer-encoding") {
        // The server does the chunked framing itself; other codings are the
        // handler's business only through a Content-Encoding field.
        if (value.trim().toLowerCase() !== "chunked") throw invalid(`unsupported Transfer-Encoding ${JSON.stringify(value)}`);
        acc.chunked = true;
        acc.pairs.push([name, value]);
        return; // the server writes this field itself
      }
      break;
  }
  acc.text += `${name}: ${value}\r\n`;
  acc.pairs.push([name, value]);
}

/**
 * Validates and serializes handler header fields. Throws
 * `HTTP_ERR_INVALID_RESPONSE` for a bad name or value, a malformed or
 * repeated Content-Length, or a Transfer-Encoding other than chunked.
 *
 * @example
 * serializeFields({ "content-type": "text/plain" }).text; // "content-type: text/plain\r\n"
 */
export function serializeFields(headers: HeaderInit | undefined): SerializedFields {
  if (headers === undefined) return NO_FIELDS;
  const acc: Acc = { text: "", contentLength: -1, chunked: false, close: false, hasDate: false, hasContentType: false, pairs: [] };
  if (Array.isArray(headers)) {
    for (const pair of headers as ReadonlyArray<readonly [string, string | number]>) addField(acc, pair[0], pair[1]);
  } else {
    const record = headers as Readonly<Record<string, string | number | readonly string[] | undefined>>;
    for (const name in record) {
      const value = record[name];
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value as readonly string[]) addField(acc, name, v);
      else addField(acc, name, value as string | number);
    }
  }
  if (acc.contentLength >= 0 && acc.chunked) throw invalid("both Content-Length and Transfer-Encoding (RFC 9112 §6.3)");
  return acc;
}

/**
 * What the response says about the connection: `keep` (HTTP/1.1 default,
 * no field), `close` (`Connection: close`, the server closes after it) or
 * `keep-alive` (`Connection: keep-alive`, for HTTP/1.0 clients that asked).
 */
export type ConnectionMode = "keep" | "close" | "keep-alive";

/** How the body of a response is delimited (RFC 9112 §6). */
export const FRAMING = {
  /** No body by definition (1xx, 204, 304) or the handler framed it itself. */
  NONE: 0,
  /** `Content-Length: n`. */
  LENGTH: 1,
  /** `Transfer-Encoding: chunked`. */
  CHUNKED: 2,
  /** Delimited by closing the connection (HTTP/1.0 streaming). */
  CLOSE: 3,
} as const;

/** Throws for a handler's Content-Length on a 204, which must not carry one (RFC 9110 §8.6). */
export function checkContentLengthAllowed(status: number, fields: SerializedFields): void {
  if (status === 204 && fields.contentLength >= 0) throw invalid("a 204 response has no Content-Length (RFC 9110 §8.6)");
}

/**
 * Builds a whole response head: status line, the handler's fields, a
 * Content-Type (unless the handler gave one), the framing field, Date (unless supplied), the Connection field when the
 * connection will close (or stays open for an HTTP/1.0 client), and the
 * blank line.
 *
 * @example
 * buildHead(200, serializeFields({ "content-type": "text/plain" }), FRAMING.LENGTH, 5, "keep");
 */
export function buildHead(
  status: number, fields: SerializedFields, framing: number, length: number, connection: ConnectionMode, contentType = "",
): string {
  if (!isValidStatus(status)) throw invalid(`invalid status ${String(status)}`);
  checkContentLengthAllowed(status, fields);
  let head = statusLine(status) + fields.text;
  if (contentType !== "" && !fields.hasContentType) head += `Content-Type: ${contentType}\r\n`;
  if (framing === FRAMING.LENGTH && fields.contentLength < 0) head += `Content-Length: ${length}\r\n`;
  else if (framing === FRAMING.CHUNKED) head += "Transfer-Encoding: chunked\r\n";
  if (!fields.hasDate) head += dateLine();
  if (connection === "close") head += "Connection: close\r\n";
  else if (connection === "keep-alive") head += "Connection: keep-alive\r\n";
  return head + CRLF;
}
