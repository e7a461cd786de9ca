/**
 * Skein's error classes. Every class carries a stable `code`; compare codes
 * or use `instanceof`, never messages.
 *
 * Cancellation is deliberately *not* a {@link SkeinError}: it is control flow
 * (trio's `Cancelled`, curio's `TaskCancelled(BaseException)`), so code that
 * catches "ordinary" Skein errors does not swallow it by accident.
 */

/** Base class of the ordinary errors Skein's core raises. */
export class SkeinError extends Error {
  /** Stable machine-readable identifier, e.g. `SKEIN_ERR_TIMEOUT`. */
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Thrown into a task at its current yield point when it (or an enclosing
 * cancel scope) is cancelled. Let it propagate: the kernel uses it to unwind
 * the task and run its `finally` blocks.
 *
 * @example
 * try { yield* sleep(1000) } catch (e) { if (isCancelled(e)) throw e; ... }
 */
export class Cancelled extends Error {
  readonly code = "SKEIN_CANCELLED";
  /** The scope (a task or a timeout's scope) whose cancellation this is. */
  readonly scope: object;
  constructor(scope: object, reason = "task was cancelled") {
    super(reason);
    this.name = "Cancelled";
    this.scope = scope;
  }
}

/** True if `e` is a {@link Cancelled} — rethrow it rather than handle it. */
export function isCancelled(e: unknown): e is Cancelled {
  return e instanceof Cancelled;
}

/** Thrown by {@link timeout} (and per-operation `timeoutMs` options) when the deadline passes. */
export class TimeoutError extends SkeinError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number, what = "operation") {
    super("SKEIN_ERR_TIMEOUT", `${what} timed out after ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** A connection-level failure: reset by peer, broken pipe, refused, or use after close. */
export class ConnectionError extends SkeinError {
  /** The operating system's error code (`ECONNRESET`, `EPIPE`…), when there is one. */
  readonly syscallCode: string | undefined;
  constructor(code: string, message: string, syscallCode?: string, options?: ErrorOptions) {
    super(code, message, options);
    this.syscallCode = syscallCode;
  }
}

/** The connection was used after it was closed (by us or by the peer). */
export class ConnectionClosedError extends ConnectionError {
  constructor(message = "connection is closed") {
    super("SKEIN_ERR_CONN_CLOSED", message);
  }
}

/** The peer reset the connection (`ECONNRESET`) or the pipe broke (`EPIPE`). */
export class ConnectionResetError extends ConnectionError {
  constructor(syscallCode: string, options?: ErrorOptions) {
    super("SKEIN_ERR_CONN_RESET", `connection reset by peer (${syscallCode})`, syscallCode, options);
  }
}

/** A connection attempt failed (`ECONNREFUSED`, `ENOTFOUND`, TLS handshake…). */
export class ConnectError extends ConnectionError {
  constructor(message: string, syscallCode?: string, options?: ErrorOptions) {
    super("SKEIN_ERR_CONNECT", message, syscallCode, options);
  }
}

/**
 * True for an error that only says the other side of a conversation went
 * away (a reset, a broken pipe, any failure of an established connection,
 * a connection used after it closed), or an `AggregateError` of nothing
 * else. That is how conversations end, not a bug, so servers answer it by
 * closing and do not log it. A failed `connect` is not one: it is the
 * caller's to report. Errors of other protocols opt in with a `peerGone`
 * property that is true (an HTTP client that left, a WebSocket that
 * closed).
 *
 * @example
 * catch (e) { if (!isPeerGone(e)) log("handler failed", e); }
 */
export function isPeerGone(e: unknown): boolean {
  if (e instanceof ConnectionError) return !(e instanceof ConnectError) && e.code !== "SKEIN_ERR_LISTENER_CLOSED";
  if (e instanceof AggregateError) return e.errors.length > 0 && e.errors.every(isPeerGone);
  return typeof e === "object" && e !== null && (e as { peerGone?: unknown }).peerGone === true;
}

/** A line exceeded `readLine`'s `maxBytes`, or `recvExactly` hit EOF early. */
export class ProtocolError extends SkeinError {}

/** A queue or channel was used after `close()`. */
export class ClosedError extends SkeinError {
  constructor(what = "channel") {
    super("SKEIN_ERR_CLOSED", `${what} is closed`);
  }
}

/**
 * A bug in Skein itself (an invariant broke), never a user error.
 * Please report it with the stack. (trio's `TrioInternalError`.)
 */
export class KernelError extends SkeinError {
  constructor(message: string, options?: ErrorOptions) {
    super("SKEIN_ERR_KERNEL", `internal kernel error: ${message}`, options);
  }
}

/** Turns a Node socket error into the matching typed Skein error. */
export function toConnectionError(err: NodeJS.ErrnoException): ConnectionError {
  const code = err.code;
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED") return new ConnectionResetError(code, { cause: err });
  if (code === "ERR_STREAM_DESTROYED" || code === "ERR_STREAM_WRITE_AFTER_END") return new ConnectionClosedError();
  return new ConnectionError("SKEIN_ERR_CONN", err.message, code, { cause: err });
}
