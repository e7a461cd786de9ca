/**
 * Status codes and their reason phrases (RFC 9110 §15), and the prebuilt
 * status lines the server writes.
 *
 * @module
 */

/** Reason phrases of the registered status codes (RFC 9110 §15 and friends). */
export const STATUS_TEXT: Readonly<Record<number, string>> = Object.freeze({
  100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints",
  200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information", 204: "No Content",
  205: "Reset Content", 206: "Partial Content", 207: "Multi-Status", 208: "Already Reported", 226: "IM Used",
  300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified",
  305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
  400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found",
  405: "Method Not Allowed", 406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout",
  409: "Conflict", 410: "Gone", 411: "Length Required", 412: "Precondition Failed", 413: "Content Too Large",
  414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable", 417: "Expectation Failed",
  418: "I'm a Teapot", 421: "Misdirected Request", 422: "Unprocessable Content", 423: "Locked",
  424: "Failed Dependency", 425: "Too Early", 426: "Upgrade Required", 428: "Precondition Required",
  429: "Too Many Requests", 431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
  500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
  504: "Gateway Timeout", 505: "HTTP Version Not Supported", 506: "Variant Also Negotiates",
  507: "Insufficient Storage", 508: "Loop Detected", 510: "Not Extended", 511: "Network Authentication Required",
});

/**
 * The reason phrase for `status` ("" for unregistered codes, which RFC 9112
 * §4 allows).
 *
 * @example
 * statusText(404); // "Not Found"
 */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? "";
}

const lines: string[] = [];

/**
 * `"HTTP/1.1 <status> <reason>\r\n"`, built once per status code.
 *
 * @example
 * statusLine(200); // "HTTP/1.1 200 OK\r\n"
 */
export function statusLine(status: number): string {
  return (lines[status] ??= `HTTP/1.1 ${status} ${statusText(status)}\r\n`);
}

/**
 * True for a status a handler may send: a three-digit code 100–599 (RFC 9110 §15).
 *
 * @example
 * isValidStatus(200); // true
 */
export function isValidStatus(status: number): boolean {
  return Number.isInteger(status) && status >= 100 && status <= 599;
}

/**
 * True when a response with `status` has no body by definition (1xx, 204,
 * 304: RFC 9110 §6.4.1), so no Content-Length/Transfer-Encoding framing.
 *
 * @example
 * isBodiless(304); // true
 */
export function isBodiless(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

/**
 * True when a response with `status` must carry no content: the bodiless
 * ones, and 205 Reset Content (RFC 9110 §15.3.6), which is still framed
 * (`Content-Length: 0`).
 *
 * @example
 * forbidsContent(205); // true
 */
export function forbidsContent(status: number): boolean {
  return isBodiless(status) || status === 205;
}

/** The rule that forbids content with `status` (for error messages). */
export function noContentRule(status: number): string {
  return status === 205 ? "RFC 9110 §15.3.6" : "RFC 9110 §6.4.1";
}
