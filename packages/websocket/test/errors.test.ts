/**
 * Bad input from the peer, written as hand-made frames on a raw socket:
 * whatever `ws` rejects reaches the peer as the right close code (1002
 * protocol error, 1007 invalid UTF-8, 1009 too big) and the handler as a
 * `recv()` of null with `ws.error` carrying the same code.
 */
import { afterEach, describe, expect, it } from "vitest";
import { websocket, WebSocketError, type WebSocketErrorCode } from "@skein/websocket";
import { startHost, type Host } from "./support/host.js";
import { closePayload, frame, RawPeer, until } from "./support/peers.js";

interface Outcome {
  msg: unknown;
  code: WebSocketErrorCode | undefined;
  closeCode: number | null;
}

let h: Host;
const outcomes: Outcome[] = [];
afterEach(async () => {
  outcomes.length = 0;
  await h?.stop();
});

async function server(maxPayloadBytes = 1 << 20): Promise<Host> {
  h = await startHost(
    websocket(
      function* (ws) {
        for (;;) {
          const msg = yield* ws.recv();
          if (msg !== null) continue;
          outcomes.push({ msg, code: ws.error?.code, closeCode: ws.closeCode });
          return;
        }
      },
      { maxPayloadBytes },
    ),
  );
  return h;
}

const invalidUtf8 = Buffer.from([0x68, 0x69, 0xc3, 0x28]); // "hi" then a broken 2-byte sequence
const cases: [string, () => Buffer[], number, WebSocketErrorCode, number?][] = [
  ["an unmasked client frame", () => [frame(0x1, "hello", { mask: false })], 1002, "WS_ERR_PROTOCOL"],
  ["a reserved opcode", () => [frame(0x3, "x")], 1002, "WS_ERR_PROTOCOL"],
  ["RSV1 without a negotiated extension", () => [frame(0x1, "x", { rsv: 4 })], 1002, "WS_ERR_PROTOCOL"],
  ["RSV2/RSV3 bits", () => [frame(0x2, "x", { rsv: 3 })], 1002, "WS_ERR_PROTOCOL"],
  ["a fragmented control frame", () => [frame(0x9, "p", { fin: false })], 1002, "WS_ERR_PROTOCOL"],
  ["a control frame over 125 bytes", () => [frame(0x9, Buffer.alloc(126))], 1002, "WS_ERR_PROTOCOL"],
  ["a continuation frame with no message started", () => [frame(0x0, "orphan")], 1002, "WS_ERR_PROTOCOL"],
  ["a new message inside a fragmented one", () => [frame(0x1, "a", { fin: false }), frame(0x1, "b")], 1002, "WS_ERR_PROTOCOL"],
  ["a close frame with a reserved code (1005)", () => [frame(0x8, closePayload(1005))], 1002, "WS_ERR_PROTOCOL"],
  ["a close frame with a one-byte payload", () => [frame(0x8, Buffer.from([3]))], 1002, "WS_ERR_PROTOCOL"],
  ["invalid UTF-8 in a text message", () => [frame(0x1, invalidUtf8)], 1007, "WS_ERR_INVALID_UTF8"],
  ["invalid UTF-8 across fragments", () => [frame(0x1, Buffer.from([0x68, 0xe2, 0x82]), { fin: false }), frame(0x0, Buffer.from([0x28]))], 1007, "WS_ERR_INVALID_UTF8"],
  ["invalid UTF-8 in a close reason", () => [frame(0x8, Buffer.concat([closePayload(1000), Buffer.from([0xff])]))], 1007, "WS_ERR_INVALID_UTF8"],
  ["a message over maxPayloadBytes", () => [frame(0x2, Buffer.alloc(1025))], 1009, "WS_ERR_MESSAGE_TOO_BIG", 1024],
  ["fragments adding up to more than maxPayloadBytes", () => [frame(0x2, Buffer.alloc(600), { fin: false }), frame(0x0, Buffer.alloc(600))], 1009, "WS_ERR_MESSAGE_TOO_BIG", 1024],
  ["a declared length of 2^53 bytes", () => [Buffer.from([0x82, 0xff, 0, 0x20, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4])], 1009, "WS_ERR_MESSAGE_TOO_BIG"],
];

describe("bad input", () => {
  it.each(cases)("%s: peer gets %i, handler gets null and %s", async (_name, frames, closeCode, code, max) => {
    const host = await server(max);
    const peer = await RawPeer.open(host.port);
    expect(peer.status).toBe(101);
    peer.write(frames());
    expect((await peer.closeFrame()).code).toBe(closeCode);
    await peer.endEvent();
    await until(() => outcomes.length === 1);
    expect(outcomes[0]).toEqual({ msg: null, code, closeCode });
  });

  it("rejects invalid UTF-8 the same way whatever the read boundaries (split at every offset)", async () => {
    const host = await server();
    const bytes = Buffer.concat([frame(0x1, "fine"), frame(0x1, invalidUtf8)]);
    for (let at = 1; at < bytes.length; at++) {
      outcomes.length = 0;
      const peer = await RawPeer.open(host.port);
      peer.write(bytes.subarray(0, at));
      await new Promise((r) => setTimeout(r, 5));
      peer.write(bytes.subarray(at));
      expect((await peer.closeFrame()).code).toBe(1007);
      await until(() => outcomes.length === 1);
      expect(outcomes[0]!.code).toBe("WS_ERR_INVALID_UTF8");
      peer.destroy();
    }
  });

  it("maps every error to one class with a stable code and its close code", () => {
    const e = new WebSocketError("WS_ERR_MESSAGE_TOO_BIG", "too big");
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("WebSocketError");
    expect([e.code, e.closeCode]).toEqual(["WS_ERR_MESSAGE_TOO_BIG", 1009]);
  });
});
