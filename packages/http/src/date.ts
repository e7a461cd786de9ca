/**
 * The Date header value (RFC 9110 §6.6.1), formatted once per second.
 *
 * Formatting a date costs about a microsecond; a server writing a million
 * responses a second must not do it per response. The cached string is
 * dropped by an unref'd timer at the next second boundary, so reading it is
 * a variable load and the timer never keeps the process alive.
 *
 * @module
 */

let cached: string | null = null;
let line: string | null = null;
let timer: NodeJS.Timeout | null = null;

function expire(): void {
  cached = null;
  line = null;
  timer = null;
}

/**
 * The current time as an IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
 *
 * @example
 * res.start(200, { "last-modified": httpDate() });
 */
export function httpDate(): string {
  if (cached === null) {
    const now = Date.now();
    cached = new Date(now).toUTCString();
    timer = setTimeout(expire, 1000 - (now % 1000));
    timer.unref();
  }
  return cached;
}

/**
 * `"Date: <IMF-fixdate>\r\n"`, the line the server appends to every response.
 *
 * @example
 * head += dateLine();
 */
export function dateLine(): string {
  return (line ??= `Date: ${httpDate()}\r\n`);
}
