// @skein/websocket — the public API. This file only re-exports.
export { websocket, type WebSocketApp, type WebSocketHandler, type WebSocketOptions, type ShutdownOptions } from "./server.js";
export { WebSocket, type SendOptions } from "./socket.js";
export type { WaitOptions } from "./inbound.js";
export { Message } from "./message.js";
export { Hub, type HubOptions, type PublishOptions } from "./hub.js";
export { connect, CLIENT_DEFAULT_LIMITS, type ConnectOptions } from "./client.js";
export { checkHandshake, type HandshakeOptions, type HandshakeRequest, type HandshakeVerdict, type OriginPolicy, type ProtocolPolicy } from "./handshake.js";
export { DEFAULT_WS_LIMITS, resolveLimits, type WebSocketLimits } from "./limits.js";
export { WebSocketError, WS_ERROR_CLOSE_CODE, type WebSocketErrorCode } from "./errors.js";
export { CloseCode, Opcode, WEBSOCKET_GUID, WEBSOCKET_VERSION, isSendableCloseCode } from "./constants.js";
