/**
 * The server's checks on an opening handshake (RFC 6455 §4.2.1), done before
 * the socket is handed to `ws`, so each failure gets its own status and
 * reason: 426 for a request that is not a WebSocket upgrade or asks for
 * another protocol version, 400 for a malformed handshake, 403 for an origin
 * outside the allow-list. Also the subprotocol choice (§4.2.2 item 5.4).
 *
 * A pure function of the request: no socket, testable field by field.
 *
 * @module
 */
import { KEY_PATTERN, TOKEN, WEBSOCKET_VERSION } from "./constants.js";

/** The parts of an HTTP request the handshake reads. */
export interface HandshakeRequest {
  readonly method: string;
  /** `"1.1"`, `"1.0"`… when known. */
  readonly httpVersion?: string;
  readonly headers: { get(name: string): string | null };
}

/** Which origins may open a WebSocket (browsers always send `Origin`). */
export type OriginPolicy<R extends HandshakeRequest = HandshakeRequest> =
  | readonly string[]
  | ((origin: string | null, req: R) => boolean);

/** Which subprotocol to speak, given the client's offer in its order of preference. */
export type ProtocolPolicy<R extends HandshakeRequest = HandshakeRequest> =
  | readonly string[]
  | ((offered: string[], req: R) => string | null | undefined);

/** Options of {@link checkHandshake}. */
export interface HandshakeOptions<R extends HandshakeRequest = HandshakeRequest> {
  /**
   * Allowed origins, e.g. `["https://example.org"]` (compared
   * case-insensitively with the `Origin` field), or a function deciding.
   * With a list, a request without `Origin` (not from a browser, so not a
   * cross-site hijack) is accepted. Default: any origin.
   */
  origins?: OriginPolicy<R>;
  /**
   * Subprotocols the server speaks, most preferred first; the first one the
   * client also offered is chosen. Or a function returning the choice. When
   * nothing matches, the handshake succeeds without a subprotocol (the
   * client decides whether to go on, RFC 6455 §4.1).
   */
  protocols?: ProtocolPolicy<R>;
}

/** The outcome: go ahead (with the chosen subprotocol), or answer with `status`. */
export type HandshakeVerdict =
  | { ok: true; key: string; protocol: string | null }
  | { ok: false; status: 400 | 403 | 426; reason: string; headers: Record<string, string> };

const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const UPGRADE_HEADERS: Record<string, string> = Object.freeze({ upgrade: "websocket", "sec-websocket-version": WEBSOCKET_VERSION });
const VERSION_HEADERS: Record<string, string> = Object.freeze({ "sec-websocket-version": WEBSOCKET_VERSION });

function reject(status: 400 | 403 | 426, reason: string, headers = NO_HEADERS): HandshakeVerdict {
  return { ok: false, status, reason, headers };
}

/** True when the comma-separated field `value` lists `token` (case-insensitive). */
function hasToken(value: string | null, token: string): boolean {
  if (value === null) return false;
  for (const part of value.split(",")) if (part.trim().toLowerCase() === token) return true;
  return false;
}

/**
 * Checks an opening handshake.
 *
 * @example
 * const v = checkHandshake(req, { origins: ["https://example.org"], protocols: ["chat.v2", "chat.v1"] });
 * if (!v.ok) return res.text(v.status, v.reason, v.headers);
 */
export function checkHandshake<R extends HandshakeRequest>(req: R, options: HandshakeOptions<R> = {}): HandshakeVerdict {
  const h = req.headers;
  // Not a WebSocket request at all: tell the client what this resource
  // speaks (RFC 9110 §15.5.22: 426 carries an Upgrade field).
  if (!hasToken(h.get("upgrade"), "websocket")) return reject(426, "this resource speaks WebSocket only", UPGRADE_HEADERS);
  if (req.method !== "GET") return reject(400, "a WebSocket handshake must be a GET (RFC 6455 §4.2.1)");
  if (req.httpVersion !== undefined && req.httpVersion !== "1.1") return reject(400, "a WebSocket handshake needs HTTP/1.1 (RFC 6455 §4.2.1)");
  if (!hasToken(h.get("connection"), "upgrade")) return reject(400, "Connection must include upgrade (RFC 6455 §4.2.1)");
  if (h.get("host") === null) return reject(400, "missing Host (RFC 6455 §4.2.1)");
  const key = h.get("sec-websocket-key");
  if (key === null || !KEY_PATTERN.test(key.trim())) return reject(400, "missing or invalid Sec-WebSocket-Key (RFC 6455 §4.2.1)");
  // RFC 6455 §4.2.2: an unknown version gets 426 and the versions we speak.
  const version = h.get("sec-websocket-version");
  if (version === null || version.trim() !== WEBSOCKET_VERSION) return reject(426, "unsupported Sec-WebSocket-Version (RFC 6455 §4.4)", VERSION_HEADERS);

  const origins = options.origins;
  if (origins !== undefined) {
    const origin = h.get("origin");
    const allowed = typeof origins === "function" ? origins(origin, req) : origin === null || originListed(origins, origin);
    if (!allowed) return reject(403, "origin not allowed");
  }

  let protocol: string | null = null;
  const offer = h.get("sec-websocket-protocol");
  if (offer !== null) {
    const offered: string[] = [];
    for (const part of offer.split(",")) {
      const p = part.trim();
      if (!TOKEN.test(p) || offered.includes(p)) return reject(400, "invalid Sec-WebSocket-Protocol (RFC 6455 §4.1)");
      offered.push(p);
    }
    const policy = options.protocols;
    if (typeof policy === "function") protocol = policy(offered, req) ?? null;
    else if (policy !== undefined) protocol = policy.find((p) => offered.includes(p)) ?? null;
    if (protocol !== null && !offered.includes(protocol)) throw new TypeError(`protocols(): chose "${protocol}", which the client did not offer`);
  }
  return { ok: true, key: key.trim(), protocol };
}

function originListed(list: readonly string[], origin: string): boolean {
  const o = origin.toLowerCase();
  for (const allowed of list) if (allowed.toLowerCase() === o) return true;
  return false;
}
