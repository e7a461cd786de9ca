/**
 * Protocol constants of WebSocket (RFC 6455) used by the adapter. Framing,
 * masking and the close handshake themselves are the `ws` package's job.
 *
 * @module
 */

/** Close status codes (RFC 6455 §7.4.1). */
export const CloseCode = {
  /** The purpose of the connection has been fulfilled. */
  NORMAL: 1000,
  /** The endpoint is going away: server shutdown, idle timeout, page navigation. */
  GOING_AWAY: 1001,
  /** The peer broke the protocol (bad opcode, unmasked client frame, bad close code…). */
  PROTOCOL_ERROR: 1002,
  /** The endpoint cannot accept this type of data. */
  UNSUPPORTED_DATA: 1003,
  /** Reserved: the close frame carried no status (never sent on the wire). */
  NO_STATUS: 1005,
  /** Reserved: the connection ended without a close frame (never sent on the wire). */
  ABNORMAL: 1006,
  /** A text message (or close reason) was not valid UTF-8 (RFC 6455 §8.1). */
  INVALID_PAYLOAD: 1007,
  /** A policy was violated (origin, slow consumer, too many fragments). */
  POLICY_VIOLATION: 1008,
  /** A message was larger than `maxPayloadBytes`. */
  MESSAGE_TOO_BIG: 1009,
  /** The client expected an extension the server did not negotiate. */
  MANDATORY_EXTENSION: 1010,
  /** The handler failed (an unexpected error on the server). */
  INTERNAL_ERROR: 1011,
  /** The service is restarting. */
  SERVICE_RESTART: 1012,
  /** Try again later (temporary overload). */
  TRY_AGAIN_LATER: 1013,
} as const;

/** The only protocol version this server speaks (RFC 6455 §4.1, `Sec-WebSocket-Version`). */
export const WEBSOCKET_VERSION = "13";

/** Appended to `Sec-WebSocket-Key` before hashing (RFC 6455 §1.3). Used by raw-frame peers in tests and benches. */
export const WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** A valid `Sec-WebSocket-Key`: 16 random bytes in base64 (RFC 6455 §4.1, item 7). */
export const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;

/** A subprotocol name is an HTTP token (RFC 6455 §4.1, item 10; RFC 9110 §5.6.2). */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Frame opcodes (RFC 6455 §5.2). */
export const Opcode = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/**
 * True for a close code an endpoint may put in a close frame (RFC 6455
 * §7.4.1–7.4.2): 1000–1003, 1007–1014, and 3000–4999 for libraries and apps.
 *
 * @example
 * isSendableCloseCode(1000); // true
 * isSendableCloseCode(1006); // false: reserved for "no close frame"
 */
export function isSendableCloseCode(code: number): boolean {
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999))
  );
}
