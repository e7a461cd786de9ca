/**
 * `ClientResponse`: the status and lazy headers of a response, and its
 * body as operations. Read the body to its end (`text`, `json`, `bytes`,
 * `read` until empty) or `discard` it: the connection goes back to the pool
 * only once the whole response has been parsed.
 *
 * @module
 */
import { HttpError } from "../errors.js";
import type { MessageHead } from "../llhttp/index.js";
import type { Exchange } from "./connection.js";
import { within, type Deadline } from "./deadline.js";
import { ResponseHeaders } from "./headers.js";

/** Options of the whole-body readers. */
export interface BodyReadOptions {
  /** Fail with `HTTP_ERR_BODY_TOO_LARGE` (and discard the connection) past this many bytes. Default: no limit. */
  maxBytes?: number;
}

/**
 * A response. Its body is read with operations.
 *
 * @example
 * const res = yield* fetch("http://127.0.0.1:8080/data");
 * if (res.status !== 200) { yield* res.discard(); return; }
 * const data = yield* res.json<{ items: string[] }>();
 */
export class ClientResponse {
  /** The status code. */
  readonly status: number;
  /** The URL this response answers (the last one, after redirects). */
  readonly url: string;
  /** True when redirects were followed to get here. */
  readonly redirected: boolean;
  readonly #ex: Exchange;
  readonly #head: MessageHead;
  readonly #bodyTimeoutMs: number;
  readonly #deadline: Deadline;
  #headers: ResponseHeaders | null = null;
  /** Some of the body has been read (by `read` or a whole-body reader). */
  #used = false;

  /** @internal */
  constructor(ex: Exchange, url: string, redirected: boolean, bodyTimeoutMs: number, deadline: Deadline) {
    this.#ex = ex;
    this.#head = ex.head!;
    this.status = this.#head.status;
    this.url = url;
    this.redirected = redirected;
    this.#bodyTimeoutMs = bodyTimeoutMs;
    this.#deadline = deadline;
  }

  /** True for 2xx statuses. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /** The reason phrase as sent ("OK"); decoded on first access. */
  get statusText(): string {
    return this.#head.target;
  }

  /** `"1.1"` or `"1.0"`. */
  get httpVersion(): string {
    return `${this.#head.versionMajor}.${this.#head.versionMinor}`;
  }

  /** The header fields, decoded lazily. */
  get headers(): ResponseHeaders {
    return (this.#headers ??= new ResponseHeaders(this.#head));
  }

  /** True once the whole body has been received (it may still be buffered, unread). */
  get complete(): boolean {
    return this.#ex.done;
  }

  /**
   * The next piece of the body as it arrives, or an empty buffer at its end.
   * Each wait is bounded by `bodyTimeoutMs` and the request's `timeoutMs`.
   */
  read(): Generator<unknown, Buffer, any> {
    const ex = this.#ex;
    this.#used = true;
    if (ex.chunks.length > 0 || ex.done) {
      return immediate(ex.take());
    }
    return within("body", this.#bodyTimeoutMs, this.#deadline, ex.connection.nextPiece(ex));
  }

  /**
   * The whole body as one buffer. Once any of the body has been read, the
   * whole is gone: a second call throws `HTTP_ERR_BODY_UNAVAILABLE` (as a
   * fetch body is "already used") rather than return a false empty body.
   */
  *bytes(options: BodyReadOptions = {}): Generator<unknown, Buffer, any> {
    if (this.#used) throw new HttpError("HTTP_ERR_BODY_UNAVAILABLE", "the response body was already read");
    const max = options.maxBytes ?? Infinity;
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const piece = yield* this.read();
      if (piece.length === 0) break;
      total += piece.length;
      if (total > max) {
        this.abort();
        throw new HttpError("HTTP_ERR_BODY_TOO_LARGE", `response body exceeds ${max} bytes`);
      }
      parts.push(piece);
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
  }

  /** The whole body decoded as UTF-8. */
  *text(options: BodyReadOptions = {}): Generator<unknown, string, any> {
    return (yield* this.bytes(options)).toString("utf8");
  }

  /** The whole body parsed as JSON; invalid JSON throws `HTTP_ERR_BAD_BODY`. */
  *json<T = unknown>(options: BodyReadOptions = {}): Generator<unknown, T, any> {
    const text = yield* this.text(options);
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new HttpError("HTTP_ERR_BAD_BODY", "response body is not valid JSON", { cause: e });
    }
  }

  /** Reads the rest of the body and drops it, so the connection can be reused. */
  *discard(): Generator<unknown, void, any> {
    while ((yield* this.read()).length > 0);
  }

  /**
   * Gives up on the body: unless it has been fully received, the connection
   * is closed at once and never reused.
   */
  abort(): void {
    const ex = this.#ex;
    ex.chunks.length = 0;
    if (!ex.done && ex.error === null) ex.connection.discard("the response was aborted");
  }
}

function* immediate<T>(value: T): Generator<unknown, T, any> {
  return value;
}
