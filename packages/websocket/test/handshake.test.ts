/**
 * The opening handshake checks (RFC 6455 §4.2.1), field by field, without a
 * socket.
 */
import { describe, expect, it } from "vitest";
import { checkHandshake, type HandshakeOptions, type HandshakeRequest } from "@skein/websocket";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

function request(fields: Record<string, string | null> = {}, method = "GET", httpVersion = "1.1"): HandshakeRequest {
  const all: Record<string, string | null> = {
    host: "example.org",
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": KEY,
    "sec-websocket-version": "13",
    ...fields,
  };
  return { method, httpVersion, headers: { get: (n) => all[n.toLowerCase()] ?? null } };
}

function status(req: HandshakeRequest, options?: HandshakeOptions): number {
  const v = checkHandshake(req, options);
  return v.ok ? 101 : v.status;
}

describe("checkHandshake", () => {
  it("accepts a well-formed handshake", () => {
    expect(checkHandshake(request())).toEqual({ ok: true, key: KEY, protocol: null });
  });

  it("accepts token lists and any letter case in Upgrade and Connection", () => {
    expect(status(request({ upgrade: "WebSocket", connection: "keep-alive, Upgrade" }))).toBe(101);
  });

  it("answers a request that is not a WebSocket upgrade with 426 and Upgrade: websocket", () => {
    const v = checkHandshake(request({ upgrade: null, connection: null }));
    expect(v).toMatchObject({ ok: false, status: 426, headers: { upgrade: "websocket", "sec-websocket-version": "13" } });
    expect(status(request({ upgrade: "h2c" }))).toBe(426);
  });

  it.each([
    ["a method other than GET", request({}, "POST")],
    ["HTTP/1.0", request({}, "GET", "1.0")],
    ["Connection without upgrade", request({ connection: "keep-alive" })],
    ["no Host", request({ host: null })],
    ["no Sec-WebSocket-Key", request({ "sec-websocket-key": null })],
    ["a key that is not 16 bytes of base64", request({ "sec-websocket-key": "c2hvcnQ=" })],
    ["a key with bad characters", request({ "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ!=" })],
    ["an invalid subprotocol list", request({ "sec-websocket-protocol": "chat, bad proto" })],
    ["a repeated subprotocol", request({ "sec-websocket-protocol": "chat, chat" })],
  ])("answers %s with 400", (_name, req) => {
    expect(status(req)).toBe(400);
  });

  it("answers another protocol version with 426 and the version it speaks (RFC 6455 §4.4)", () => {
    for (const version of ["8", "12", "14", null]) {
      const v = checkHandshake(request({ "sec-websocket-version": version }));
      expect(v).toMatchObject({ ok: false, status: 426, headers: { "sec-websocket-version": "13" } });
    }
  });

  describe("origins", () => {
    const origins = ["https://example.org", "https://app.example.org:8443"];
    it("accepts a listed origin, case-insensitively", () => {
      expect(status(request({ origin: "https://EXAMPLE.org" }), { origins })).toBe(101);
      expect(status(request({ origin: "https://app.example.org:8443" }), { origins })).toBe(101);
    });
    it("answers an unlisted origin with 403", () => {
      expect(status(request({ origin: "https://evil.example" }), { origins })).toBe(403);
      expect(status(request({ origin: "https://example.org:444" }), { origins })).toBe(403);
      expect(status(request({ origin: "null" }), { origins })).toBe(403);
    });
    it("accepts a request without Origin (not a browser)", () => {
      expect(status(request(), { origins })).toBe(101);
    });
    it("lets a function decide, including about a missing Origin", () => {
      const policy = (origin: string | null) => origin !== null && origin.endsWith(".example.org");
      expect(status(request({ origin: "https://a.example.org" }), { origins: policy })).toBe(101);
      expect(status(request(), { origins: policy })).toBe(403);
    });
  });

  describe("subprotocols", () => {
    it("picks the server's most preferred protocol among those offered", () => {
      const v = checkHandshake(request({ "sec-websocket-protocol": "chat.v1, chat.v2" }), { protocols: ["chat.v2", "chat.v1"] });
      expect(v).toMatchObject({ ok: true, protocol: "chat.v2" });
    });
    it("goes on without a subprotocol when none matches or none is configured", () => {
      expect(checkHandshake(request({ "sec-websocket-protocol": "mqtt" }), { protocols: ["chat"] })).toMatchObject({ ok: true, protocol: null });
      expect(checkHandshake(request({ "sec-websocket-protocol": "mqtt" }))).toMatchObject({ ok: true, protocol: null });
    });
    it("lets a function choose from the offer in the client's order", () => {
      const seen: string[][] = [];
      const v = checkHandshake(request({ "sec-websocket-protocol": "b, a" }), { protocols: (offered) => (seen.push(offered), offered.at(-1)) });
      expect(seen).toEqual([["b", "a"]]);
      expect(v).toMatchObject({ ok: true, protocol: "a" });
    });
    it("refuses a choice the client did not offer (a bug in the policy)", () => {
      expect(() => checkHandshake(request({ "sec-websocket-protocol": "a" }), { protocols: () => "z" })).toThrow(TypeError);
    });
  });
});
