/**
 * Errors of `@skein/websocket`: one base class, {@link WebSocketError}, with
 * a stable `code` to branch on (never compare messages) and the close code
 * that went (or would go) on the wire for it.
 *
 * @module
 */
import { CloseCode } from "./constants.js";

/**
 * Every stable error code of this package, with the close code each one puts
 * on the wire. 1006 means the connection ended without a close frame.
 */
export const WS_ERROR_CLOSE_CODE = {
  /** The peer broke the framing protocol (bad opcode, RSV bits, masking, control frame, close code). */
  WS_ERR_PROTOCOL: CloseCode.PROTOCOL_ERROR,
  /** A text message or close reason was not valid UTF-8. */
  WS_ERR_INVALID_UTF8: CloseCode.INVALID_PAYLOAD,
  /** A message exceeded `maxPayloadBytes`. */
  WS_ERR_MESSAGE_TOO_BIG: CloseCode.MESSAGE_TOO_BIG,
  /** A message arrived in more fragments or buffered chunks than allowed. */
  WS_ERR_TOO_MANY_PARTS: CloseCode.POLICY_VIOLATION,
  /** The connection ended without a close handshake (reset, or the peer vanished). */
  WS_ERR_ABNORMAL_CLOSURE: CloseCode.ABNORMAL,
  /** The peer did not answer a heartbeat ping within `pongTimeoutMs`; the socket was terminated. */
  WS_ERR_PONG_TIMEOUT: CloseCode.ABNORMAL,
  /** No message arrived within `idleTimeoutMs`. */
  WS_ERR_IDLE_TIMEOUT: CloseCode.GOING_AWAY,
  /** The connection reached `maxLifetimeMs`. */
  WS_ERR_MAX_LIFETIME: CloseCode.GOING_AWAY,
  /** The server is shutting down. */
  WS_ERR_SHUTTING_DOWN: CloseCode.GOING_AWAY,
  /** The handler threw; the peer was sent 1011. */
  WS_ERR_HANDLER: CloseCode.INTERNAL_ERROR,
  /**
   * The peer's messages outgrew the inbound queue's hard bound
   * (`maxQueuedBytes + maxPayloadBytes`) while the handler was behind:
   * compressed messages that inflate faster than reading can be paused.
   */
  WS_ERR_QUEUE_OVERFLOW: CloseCode.POLICY_VIOLATION,
  /** A hub subscriber fell more than `maxBufferedBytes` behind (policy "close"). */
  WS_ERR_SLOW_CONSUMER: CloseCode.POLICY_VIOLATION,
  /** `send`/`ping` on a socket that is closing or closed; `closeCode` is the socket's. */
  WS_ERR_CLOSED: CloseCode.ABNORMAL,
  /** The client's opening handshake failed (refused, bad status, bad headers); `status` has the HTTP status if any. */
  WS_ERR_HANDSHAKE: CloseCode.ABNORMAL,
} as const;

/** A stable error code of `@skein/websocket`. */
export type WebSocketErrorCode = keyof typeof WS_ERROR_CLOSE_CODE;

/**
 * The base class of every error this package raises.
 *
 * @example
 * const msg = yield* ws.recv();
 * if (msg === null && ws.error?.code === "WS_ERR_INVALID_UTF8") log("peer sent bad UTF-8");
 */
export class WebSocketError extends Error {
  override name = "WebSocketError";
  /** Stable machine-readable code. */
  readonly code: WebSocketErrorCode;
  /** The close code this error put on the wire (1006: none, the socket was dropped). */
  readonly closeCode: number;
  /** The code `ws` reported (`WS_ERR_INVALID_OPCODE`…), when the error came from `ws`. */
  readonly wsCode: string | undefined;
  /** HTTP status of a failed client handshake, when there was a response. */
  readonly status: number | undefined;

  constructor(
    code: WebSocketErrorCode,
    message: string,
    options?: { cause?: unknown; closeCode?: number; wsCode?: string; status?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.closeCode = options?.closeCode ?? WS_ERROR_CLOSE_CODE[code];
    this.wsCode = options?.wsCode;
    this.status = options?.status;
  }

  /** True when the error only says the socket closed: the end of a conversation, not a bug (see core's `isPeerGone`). */
  get peerGone(): boolean {
    return this.code === "WS_ERR_CLOSED";
  }
}

/**
 * Maps an error `ws` raised to ours: receiver errors carry `ws`'s code and
 * the close status `ws` sent for them; socket errors (ECONNRESET…) carry
 * neither and become {@link WS_ERROR_CLOSE_CODE.WS_ERR_ABNORMAL_CLOSURE}.
 */
export function fromWsError(err: Error & { code?: string }, statusCode: number | undefined): WebSocketError {
  const wsCode = err.code;
  let code: WebSocketErrorCode;
  if (wsCode === "WS_ERR_INVALID_UTF8") code = "WS_ERR_INVALID_UTF8";
  else if (wsCode === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH" || wsCode === "WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH" || statusCode === 1009) {
    code = "WS_ERR_MESSAGE_TOO_BIG";
  } else if (wsCode === "WS_ERR_TOO_MANY_BUFFERED_PARTS") code = "WS_ERR_TOO_MANY_PARTS";
  else if (statusCode !== undefined || wsCode?.startsWith("WS_ERR_") === true) code = "WS_ERR_PROTOCOL"; // incl. a corrupt deflate stream (1007)
  else code = "WS_ERR_ABNORMAL_CLOSURE";
  return new WebSocketError(code, err.message, {
    cause: err,
    wsCode,
    closeCode: code === "WS_ERR_ABNORMAL_CLOSURE" ? CloseCode.ABNORMAL : (statusCode ?? WS_ERROR_CLOSE_CODE[code]),
  });
}
