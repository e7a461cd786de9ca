/**
 * `accessLog`: middleware writing one line per request after it finished —
 * client, method, target, version, status, body bytes (when known) and time
 * taken — in the spirit of the Common Log Format.
 *
 * @module
 */
import { isCancelled } from "@skein/core";
import type { App, Middleware, Request, Response } from "./app.js";
import { HttpError } from "./errors.js";
import { handlerOperation } from "./drive.js";
import { Prepared } from "./prepared.js";

/** One finished request, as passed to a custom `format`. */
export interface AccessLogEntry {
  readonly req: Request;
  /**
   * The status sent. When the handler ended before sending one: 499 if it
   * was cancelled (the client left, or a shutdown's grace period ran out;
   * nginx's "client closed request"), else the `HttpError`'s status or 500.
   */
  readonly status: number;
  /** Body bytes of a prepared response, or -1 when streamed. */
  readonly bytes: number;
  /** Milliseconds from the handler's start to its end. */
  readonly ms: number;
  /** The handler's error, if it failed. */
  readonly error: unknown;
}

/** Options of {@link accessLog}. */
export interface AccessLogOptions {
  /** Where lines go. Default: standard output. */
  write?: (line: string) => void;
  /** Builds a line. Default: `127.0.0.1 "GET /path HTTP/1.1" 200 13 0.2ms`. */
  format?: (entry: AccessLogEntry) => string;
}

/** Logged for a request whose handler was cancelled before it sent a status; nothing went on the wire. */
const CLIENT_CLOSED_REQUEST = 499;

function defaultFormat(e: AccessLogEntry): string {
  const bytes = e.bytes < 0 ? "-" : String(e.bytes);
  return `${e.req.remoteAddress ?? "-"} "${e.req.method} ${quoted(e.req.target)} HTTP/${e.req.httpVersion}" ${e.status} ${bytes} ${e.ms.toFixed(1)}ms`;
}

/** A target as it may stand inside the log line's quotes: `"` and `\` escaped as `\x22`, `\x5c` (nginx's way). */
function quoted(target: string): string {
  return /["\\]/.test(target) ? target.replace(/["\\]/g, (c) => (c === '"' ? "\\x22" : "\\x5c")) : target;
}

/**
 * Logs every request the wrapped app handles, successful or not.
 *
 * @example
 * const app = compose(accessLog())(router.app());
 * const quiet = accessLog({ write: (line) => lines.push(line) });
 */
export function accessLog(options: AccessLogOptions = {}): Middleware {
  const write = options.write ?? ((line: string) => void process.stdout.write(line + "\n"));
  const format = options.format ?? defaultFormat;
  return (next: App): App =>
    function* logged(req: Request, res: Response) {
      const started = performance.now();
      let status = 0;
      let bytes = -1;
      let error: unknown;
      try {
        const result = yield* handlerOperation(next(req, res));
        if (result instanceof Prepared) {
          status = result.status;
          bytes = req.method === "HEAD" ? 0 : result.byteLength;
        } else status = res.status || 200;
        return result;
      } catch (e) {
        error = e;
        status = res.headersSent ? res.status : isCancelled(e) ? CLIENT_CLOSED_REQUEST : e instanceof HttpError && e.status > 0 ? e.status : 500;
        throw e;
      } finally {
        write(format({ req, status, bytes, ms: performance.now() - started, error }));
      }
    };
}
