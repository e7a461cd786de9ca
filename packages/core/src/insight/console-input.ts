/**
 * What reaches a console session's REPL from its socket: nothing until the
 * first line is known not to be HTTP, and no line longer than a bound.
 *
 * A console on a loopback port is reachable by every program on the machine,
 * web browsers included: a page can make the browser POST to
 * `127.0.0.1:<port>`, and a REPL would run the body's lines. Like Redis,
 * the console hangs up on a connection whose first line is an HTTP request
 * line, before any of it is evaluated.
 *
 * @module
 */
import { PassThrough } from "node:stream";
import type { Socket } from "node:net";

/** Longest line the console accepts, in bytes; a longer one ends the session. */
export const CONSOLE_MAX_LINE_BYTES = 64 * 1024;

const HTTP_REQUEST_LINE = /^[A-Z]+ \S+ HTTP\/\d(\.\d)?\r?$/;

/**
 * The REPL's input: the bytes of `socket` (after `head`), held back until
 * the first line has been checked. Calls `refuse(reason)` and stops passing
 * bytes when the first line is an HTTP request line or a line exceeds
 * {@link CONSOLE_MAX_LINE_BYTES}.
 */
export function gatedInput(socket: Socket, head: Buffer, refuse: (reason: string) => void): PassThrough {
  const input = new PassThrough();
  let held: Buffer[] | null = []; // until the first line is complete
  let heldBytes = 0;
  let lineBytes = 0; // of the line being received
  let stopped = false;
  /** Measures the lines in `chunk` (the first continues the one being received); false when one is too long. */
  const linesFit = (chunk: Buffer): boolean => {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      if (lineBytes + nl - start > CONSOLE_MAX_LINE_BYTES) return false;
      lineBytes = 0;
      start = nl + 1;
    }
    lineBytes += chunk.length - start;
    return lineBytes <= CONSOLE_MAX_LINE_BYTES;
  };
  const take = (chunk: Buffer) => {
    if (stopped) return;
    if (!linesFit(chunk)) return stop("line too long");
    if (held !== null) {
      held.push(chunk);
      heldBytes += chunk.length;
      const all = Buffer.concat(held, heldBytes);
      const end = all.indexOf(10);
      if (end < 0) return;
      if (HTTP_REQUEST_LINE.test(all.toString("latin1", 0, end))) return stop("an HTTP request is not a console session");
      held = null;
      chunk = all;
    }
    input.write(chunk);
  };
  const stop = (reason: string) => {
    stopped = true;
    held = null;
    refuse(reason);
  };
  if (head.length > 0) take(head);
  socket.on("data", take);
  socket.resume(); // detached sockets come paused
  socket.on("end", () => {
    if (!stopped && held === null) input.end();
    else if (!stopped) {
      // The peer closed before a first newline: evaluate what it sent, as a REPL would.
      const rest = Buffer.concat(held!, heldBytes);
      held = null;
      if (HTTP_REQUEST_LINE.test(rest.toString("latin1"))) return stop("an HTTP request is not a console session");
      input.end(rest);
    }
  });
  return input;
}
