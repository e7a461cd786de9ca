/**
 * `Prepared`: a complete response (status, fields, whole body) that a
 * handler returns instead of streaming — the fast path. The server writes it
 * in one go; a reusable one (built once with `Prepared.text` at module
 * level) is kept as finished bytes and rebuilt only when the Date second
 * changes, so serving it is a single copy.
 *
 * @module
 */
import type { Operation } from "@skein/core";
import { APPLICATION_JSON, FIELD_VALUE, OCTET_STREAM, TEXT_PLAIN } from "./constants.js";
import { httpDate } from "./date.js";
import { HttpError } from "./errors.js";
import type { Output } from "./output.js";
import { buildHead, FRAMING, NO_FIELDS, serializeFields, type ConnectionMode, type HeaderInit, type SerializedFields } from "./response-head.js";
import { forbidsContent, isBodiless, isValidStatus, noContentRule } from "./status.js";

// `yield* prepared` returns the prepared response itself, with no
// allocation: the result object is shared (read at once by V8's `yield*`).
const done: { done: true; value: unknown } = { done: true, value: undefined };

// A one-entry cache for per-request responses that repeat (the same literal
// body, status and type on every request, as a benchmark or a health check
// does). It is filled only on the second identical response in a row.
let seenBody: unknown = null;
let cache: { status: number; type: string; body: unknown; date: string; bytes: Buffer; headLength: number } | null = null;

/**
 * A whole response, ready to write.
 *
 * @example
 * const hello = Prepared.text(200, "Hello, World!");     // built once
 * const app = (req: Request, res: Response) => hello;    // served as one copy
 */
export class Prepared implements Operation<Prepared>, Iterator<unknown, Prepared> {
  /** Status code. */
  readonly status: number;
  /** Content-Type sent unless `fields` has one ("" = none). */
  readonly contentType: string;
  /** The body: a string is sent as UTF-8. */
  readonly body: string | Uint8Array;
  /** Extra header fields, validated. */
  readonly fields: SerializedFields;
  /** It declares a Content-Length its (empty) body does not have: only a HEAD may be answered with it. */
  readonly headOnly: boolean = false;
  readonly #reusable: boolean;
  #date = "";
  #bytes: Buffer | null = null;
  #headLength = 0;

  /** Prefer the factories ({@link Prepared.text} …) or `res.text` … */
  constructor(status: number, contentType: string, body: string | Uint8Array, fields: SerializedFields, reusable: boolean) {
    if (!isValidStatus(status) || status < 200) throw new HttpError("HTTP_ERR_INVALID_RESPONSE", `invalid status ${String(status)} for a prepared response`);
    if (forbidsContent(status) && body.length > 0) throw new HttpError("HTTP_ERR_INVALID_RESPONSE", `a ${status} response cannot have a body (${noContentRule(status)})`);
    // The factories pass constants; anything else is checked like a field value.
    if (contentType !== TEXT_PLAIN && contentType !== APPLICATION_JSON && contentType !== OCTET_STREAM && (typeof contentType !== "string" || !FIELD_VALUE.test(contentType))) {
      throw new HttpError("HTTP_ERR_INVALID_RESPONSE", "invalid content type: CR, LF, NUL and control characters are not allowed (RFC 9110 §5.5)");
    }
    if (fields.contentLength >= 0 && !isBodiless(status)) {
      // A wrong length would make the client read into (or swallow) the next
      // response. An empty body may declare one: the answer to a HEAD (RFC
      // 9110 §9.3.2), refused when written for any other request.
      const n = typeof body === "string" ? Buffer.byteLength(body, "utf8") : body.length;
      if (n !== fields.contentLength) {
        if (n > 0) throw new HttpError("HTTP_ERR_INVALID_RESPONSE", `Content-Length ${fields.contentLength} does not match the ${n}-byte body`);
        this.headOnly = true;
      }
    }
    this.status = status;
    this.contentType = contentType;
    this.body = body;
    this.fields = fields;
    this.#reusable = reusable;
  }

  /**
   * A reusable text response (`text/plain; charset=utf-8` unless a
   * content-type is given in `headers`).
   *
   * @example
   * const notFound = Prepared.text(404, "not found\n");
   */
  static text(status: number, body: string, headers?: HeaderInit): Prepared {
    return new Prepared(status, TEXT_PLAIN, body, serializeFields(headers), true);
  }

  /**
   * A reusable JSON response of `JSON.stringify(value)`.
   *
   * @example
   * const ok = Prepared.json(200, { ok: true });
   */
  static json(status: number, value: unknown, headers?: HeaderInit): Prepared {
    return new Prepared(status, APPLICATION_JSON, JSON.stringify(value) ?? "null", serializeFields(headers), true);
  }

  /**
   * A reusable binary response (`application/octet-stream` unless given).
   *
   * @example
   * const pixel = Prepared.bytes(200, gif, { "content-type": "image/gif" });
   */
  static bytes(status: number, body: Uint8Array, headers?: HeaderInit): Prepared {
    return new Prepared(status, OCTET_STREAM, body, serializeFields(headers), true);
  }

  /** A prepared response is an operation that returns itself (so plain functions can be apps). */
  [Symbol.iterator](): this {
    return this;
  }

  /** @internal */
  next(): IteratorResult<unknown, Prepared> {
    done.value = this;
    return done as IteratorResult<unknown, Prepared>;
  }

  /** Byte length of the body. */
  get byteLength(): number {
    return typeof this.body === "string" ? Buffer.byteLength(this.body, "utf8") : this.body.length;
  }

  /** True when the handler's fields ask to close the connection. */
  get wantsClose(): boolean {
    return this.fields.close;
  }

  /**
   * Writes the response to `out`. `headOnly` for HEAD requests (RFC 9110
   * §9.3.2: the same fields, no body).
   *
   * @internal
   */
  writeTo(out: Output, connection: ConnectionMode, headOnly: boolean): void {
    if (this.headOnly && !headOnly) throw headOnlyError(this.fields.contentLength);
    if (connection === "keep") {
      if (this.#reusable) {
        const date = httpDate();
        if (this.#date !== date || this.#bytes === null) {
          this.#bytes = this.#build(connection);
          this.#date = date;
        }
        out.bytes(headOnly ? this.#bytes.subarray(0, this.#headLength) : this.#bytes);
        return;
      }
      // Strings only: they are immutable, so equal means same bytes.
      if (this.fields === NO_FIELDS && typeof this.body === "string" && this.#writeCached(out, headOnly)) return;
    }
    this.#write(out, connection, headOnly);
  }

  #head(connection: ConnectionMode): string {
    const bodiless = isBodiless(this.status);
    return buildHead(this.status, this.fields, bodiless ? FRAMING.NONE : FRAMING.LENGTH, this.byteLength, connection, bodiless ? "" : this.contentType);
  }

  #write(out: Output, connection: ConnectionMode, headOnly: boolean): void {
    out.latin1(this.#head(connection));
    if (headOnly || this.body.length === 0) return;
    if (typeof this.body === "string") out.utf8(this.body);
    else out.bytes(this.body);
  }

  /** Whole response bytes, remembering where the head ends. */
  #build(connection: ConnectionMode): Buffer {
    const head = this.#head(connection);
    const body = typeof this.body === "string" ? Buffer.from(this.body, "utf8") : this.body;
    const bytes = Buffer.allocUnsafe(head.length + body.length);
    bytes.write(head, 0, head.length, "latin1");
    bytes.set(body, head.length);
    this.#headLength = head.length;
    return bytes;
  }

  #writeCached(out: Output, headOnly: boolean): boolean {
    const c = cache;
    if (c !== null && c.body === this.body && c.status === this.status && c.type === this.contentType) {
      const date = httpDate();
      if (c.date !== date) {
        c.bytes = this.#build("keep");
        c.headLength = this.#headLength;
        c.date = date;
      }
      out.bytes(headOnly ? c.bytes.subarray(0, c.headLength) : c.bytes);
      return true;
    }
    if (seenBody !== this.body) {
      seenBody = this.body;
      return false;
    }
    const bytes = this.#build("keep");
    cache = { status: this.status, type: this.contentType, body: this.body, date: httpDate(), bytes, headLength: this.#headLength };
    out.bytes(headOnly ? bytes.subarray(0, this.#headLength) : bytes);
    return true;
  }
}

/** Builds a per-request prepared response (used by `res.text` and friends). */
export function prepare(status: number, contentType: string, body: string | Uint8Array, headers: HeaderInit | undefined): Prepared {
  return new Prepared(status, contentType, body, headers === undefined ? NO_FIELDS : serializeFields(headers), false);
}

/**
 * The per-request fast paths of a `Response` — `res.text`, `res.json`,
 * `res.bytes` — shared by Skein's own response and the node:http adapter's.
 */
export abstract class PreparedFastPaths {
  /** A per-request text response to return (`text/plain; charset=utf-8`). */
  text(status: number, body: string, headers?: HeaderInit): Prepared {
    return prepare(status, TEXT_PLAIN, body, headers);
  }

  /** A per-request JSON response to return. */
  json(status: number, value: unknown, headers?: HeaderInit): Prepared {
    return prepare(status, APPLICATION_JSON, JSON.stringify(value) ?? "null", headers);
  }

  /** A per-request binary response to return. */
  bytes(status: number, body: Uint8Array, headers?: HeaderInit): Prepared {
    return prepare(status, OCTET_STREAM, body, headers);
  }
}

/** The error for a prepared HEAD answer (a declared length, no body) written for another request. */
export function headOnlyError(contentLength: number): HttpError {
  return new HttpError("HTTP_ERR_INVALID_RESPONSE", `Content-Length ${contentLength} with an empty body only answers a HEAD request`);
}
