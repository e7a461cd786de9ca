/**
 * Protocol constants of HTTP/1.1 (RFC 9110, RFC 9112) used by the server.
 *
 * @module
 */

/** Line terminator of HTTP/1.1 (RFC 9112 §2.2). */
export const CRLF = "\r\n";

/** The end of a chunked body with no trailers (RFC 9112 §7.1). */
export const LAST_CHUNK = "0\r\n\r\n";

/** The bytes of {@link LAST_CHUNK}. */
export const LAST_CHUNK_BYTES: Buffer = Buffer.from(LAST_CHUNK, "latin1");

/** The interim response to `Expect: 100-continue` (RFC 9110 §10.1.1). */
export const CONTINUE_BYTES: Buffer = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1");

/** The only expectation defined by RFC 9110 §10.1.1, lower-cased. */
export const EXPECT_CONTINUE = "100-continue";

/**
 * A header field name is a token (RFC 9110 §5.1, §5.6.2).
 *
 * @example
 * TOKEN.test("X-Request-Id"); // true
 */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A header field value may hold visible characters, SP, HTAB and obs-text,
 * never CR, LF or NUL (RFC 9110 §5.5) — so a value can never split a response.
 */
export const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Default Content-Type of `res.text` responses. */
export const TEXT_PLAIN = "text/plain; charset=utf-8";

/** Default Content-Type of `res.json` responses. */
export const APPLICATION_JSON = "application/json; charset=utf-8";

/** Default Content-Type of `res.bytes` responses. */
export const OCTET_STREAM = "application/octet-stream";
