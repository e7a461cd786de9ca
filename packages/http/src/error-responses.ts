/**
 * Prebuilt bytes for the responses the server sends on its own when input is
 * bad or the server is overloaded: 400, 408, 413, 431, 500, 503, 505. Each
 * closes the connection. They are rebuilt only when the Date second changes.
 *
 * @module
 */
import { httpDate } from "./date.js";
import { statusLine } from "./status.js";

/** The statuses with prebuilt responses. */
export const PREBUILT_STATUSES = [400, 408, 413, 431, 500, 503, 505] as const;

let builtFor = "";
const cache = new Map<number, Buffer>();

function build(status: number, date: string): Buffer {
  return Buffer.from(
    `${statusLine(status)}Content-Length: 0\r\nConnection: close\r\nDate: ${date}\r\n\r\n`,
    "latin1",
  );
}

/**
 * The complete response the server writes for an error `status` before
 * closing the connection (`Content-Length: 0`, `Connection: close`, Date).
 *
 * @example
 * conn.send(errorResponse(431));
 */
export function errorResponse(status: number): Buffer {
  const date = httpDate();
  if (date !== builtFor) {
    cache.clear();
    builtFor = date;
  }
  let bytes = cache.get(status);
  if (bytes === undefined) {
    bytes = build(status, date);
    cache.set(status, bytes);
  }
  return bytes;
}
