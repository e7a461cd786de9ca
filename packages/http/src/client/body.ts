/**
 * Request bodies: fixed bytes (sent with Content-Length) or a stream sent
 * with chunked transfer coding (RFC 9112 §7.1) — from an iterable of chunks
 * or from a coroutine that writes them as it produces them.
 *
 * @module
 */
import type { Conn, Operation } from "@skein/core";
import { LAST_CHUNK_BYTES } from "../constants.js";
import type { BodyFraming } from "./request-head.js";

/** One piece of a streamed body. */
export type BodyChunk = Uint8Array | string;

/**
 * A coroutine that produces a body: it calls `write` for each chunk (which
 * suspends while the connection is backed up) and returns at the end.
 *
 * @example
 * const body: BodyWriter = function* (write) {
 *   for (let i = 0; i < 3; i++) { yield* write(`part ${i}\n`); yield* sleep(10); }
 * };
 */
export type BodyWriter = (write: (chunk: BodyChunk) => Operation<void>) => Operation<void>;

/**
 * What a request may carry: a string or bytes (Content-Length), an iterable
 * of chunks such as a generator (chunked), a {@link BodyWriter} (chunked),
 * or nothing.
 */
export type RequestBody = string | Uint8Array | Iterable<BodyChunk> | BodyWriter | null | undefined;

/** Methods whose semantics define a request body: sent with `content-length: 0` when there is none (RFC 9110 §8.6). */
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/** How `body` goes on the wire for `method`. */
export function framingOf(method: string, body: RequestBody): BodyFraming {
  if (body === null || body === undefined) return BODY_METHODS.has(method) ? { kind: "length", length: 0 } : { kind: "none" };
  if (typeof body === "string") return { kind: "length", length: Buffer.byteLength(body) };
  if (body instanceof Uint8Array) return { kind: "length", length: body.length };
  return { kind: "chunked" };
}

/**
 * True when the body can be sent again (for a retry or a 307/308 redirect):
 * fixed bytes and arrays can; generators and writers produce their chunks once.
 */
export function isReplayable(body: RequestBody): boolean {
  return body === null || body === undefined || typeof body === "string" || body instanceof Uint8Array || Array.isArray(body);
}

/**
 * Writes `body` (already framed by the head) to `conn`. Fixed bodies are
 * queued with the head so both leave in one write; streamed chunks suspend
 * under backpressure.
 */
export function* writeBody(conn: Conn, body: RequestBody): Generator<unknown, void, any> {
  if (body === null || body === undefined) return;
  if (typeof body === "string" || body instanceof Uint8Array) {
    yield* conn.sendAll(body);
    return;
  }
  const write = function* (chunk: BodyChunk): Generator<unknown, void, any> {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    // An empty chunk would read as the last-chunk marker: skip it.
    if (bytes.length === 0) return;
    conn.send(`${bytes.length.toString(16)}\r\n`);
    conn.send(bytes);
    yield* conn.sendAll("\r\n");
  };
  if (typeof body === "function") yield* body(write);
  else for (const chunk of body) yield* write(chunk);
  yield* conn.sendAll(LAST_CHUNK_BYTES);
}
