/**
 * `accessLog`: middleware writing one line per request after it finished —
 * client, method, target, version, status, body bytes and time taken — in
 * the spirit of the Common Log Format.
 *
 * @module
 */
import type { App, Middleware, Request, Response } from "./app.js";
import { handlerOperation } from "./drive.js";

/** One finished request, as passed to a custom `format`. */
export interface AccessLogEntry {
  readonly req: Request;
  /**
   * The status sent, as the server sent it (a handler that returned without
   * responding got a 500, one past the handler timeout a 503). 499 when no
   * response went out: the client left, or a shutdown's grace period ran
   * out (nginx's "client closed request").
   */
  readonly status: number;
  /** Body bytes sent. */
  readonly bytes: number;
  /** False when the response was cut short or never sent. */
  readonly complete: boolean;
  /** Milliseconds from the handler's start to the end of the response. */
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

/** Logged for a request that got no response; nothing went on the wire. */
const CLIENT_CLOSED_REQUEST = 499;

function defaultFormat(e: AccessLogEntry): string {
  return `${e.req.remoteAddress ?? "-"} "${e.req.method} ${quoted(e.req.target)} HTTP/${e.req.httpVersion}" ${e.status} ${e.bytes} ${e.ms.toFixed(1)}ms`;
}

/** A target as it may stand inside the log line's quotes: `"` and `\` escaped as `\x22`, `\x5c` (nginx's way). */
function quoted(target: string): string {
  return /["\\]/.test(target) ? target.replace(/["\\]/g, (c) => (c === '"' ? "\\x22" : "\\x5c")) : target;
}

/**
 * Logs every request the wrapped app handles, successful or not, once its
 * response is over (through `res.onFinish`): the line has the status and
 * byte count the client was sent.
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
      let error: unknown;
      res.onFinish((o) => {
        const status = o.status === 0 ? CLIENT_CLOSED_REQUEST : o.status;
        write(format({ req, status, bytes: o.bodyBytes, complete: o.complete, ms: performance.now() - started, error }));
      });
      try {
        return yield* handlerOperation(next(req, res));
      } catch (e) {
        error = e;
        throw e;
      }
    };
}
