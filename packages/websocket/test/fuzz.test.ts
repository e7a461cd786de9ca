/**
 * Seeded fuzz: random sequences of client frames — valid messages,
 * fragments, pings, closes with good and bad codes, protocol violations and
 * corrupted bytes — written to an echo app in random pieces. A model of
 * RFC 6455 predicts, frame by frame, what the server must echo and how it
 * must close, up to the first frame it cannot predict (a random header or
 * corrupted bytes); after that only "no hang, no internal error, a proper
 * close code" is checked. Every complete message sent before the point the
 * model stops must come back, in order, before the close: nothing received
 * is lost.
 *
 * `SKEIN_FUZZ_SEED`, `SKEIN_FUZZ_CASE` (replay one) and `SKEIN_FUZZ_CASES`
 * work as in @skein/http's fuzz tests.
 */
import { constants, inflateRawSync } from "node:zlib";
import { sleep } from "@skein/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FUZZ, fuzzCases, Random, randomPieces } from "../../../scripts/fuzz-random.js";
import { WebSocketError, websocket } from "../src/index.js";
import { startHost, type Host } from "./support/host.js";
import { closePayload, frame, RawPeer, until, type Frame } from "./support/peers.js";

const MAX_PAYLOAD = 100_000;
/** Close codes a peer may send (RFC 6455 §7.4, as ws checks them). */
const isValidCloseCode = (code: number) => (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);

interface Message {
  binary: boolean;
  data: Buffer;
}

/** What the app received on one connection. */
interface Session {
  messages: Message[];
  ended: boolean;
}

/** What the server must do with a case's frames, as far as the model can tell. */
interface Expectation {
  /** Messages it must echo, in order (before its close frame). */
  echoes: Message[];
  /** Its close code; null when the model stopped at an unpredictable frame. */
  close: number | null;
}

/** One client frame and what the model knows of it. */
type Step =
  | { bytes: Buffer; kind: "message"; binary: boolean; data: Buffer; fin: boolean; continuation: boolean }
  | { bytes: Buffer; kind: "ping" | "pong" }
  | { bytes: Buffer; kind: "close"; code: number }
  | { bytes: Buffer; kind: "error"; code: number; midMessageOnly?: boolean }
  | { bytes: Buffer; kind: "unknown" };

function randomPayload(r: Random): Buffer {
  const n = r.pick([0, 1, 5, 125, 126, 200, 70_000]);
  return Buffer.from(Array.from({ length: n }, () => r.int(256)));
}

function randomStep(r: Random): Step {
  switch (r.int(12)) {
    case 0:
      return { bytes: frame(1, "hello"), kind: "message", binary: false, data: Buffer.from("hello"), fin: true, continuation: false };
    case 1: {
      const data = randomPayload(r);
      return { bytes: frame(2, data), kind: "message", binary: true, data, fin: true, continuation: false };
    }
    case 2:
      return { bytes: frame(9, "ping"), kind: "ping" };
    case 3:
      return { bytes: frame(1, "par", { fin: false }), kind: "message", binary: false, data: Buffer.from("par"), fin: false, continuation: false };
    case 4: {
      const fin = r.next() < 0.5;
      return { bytes: frame(0, "tial", { fin }), kind: "message", binary: false, data: Buffer.from("tial"), fin, continuation: true };
    }
    case 5: {
      const code = r.pick([1000, 1001, 1005, 1006, 999, 4000, 5000, 1015, 3000]);
      const bytes = frame(8, closePayload(code));
      return isValidCloseCode(code) ? { bytes, kind: "close", code } : { bytes, kind: "error", code: 1002 };
    }
    case 6: // a random header: opcode, FIN and RSV bits
      return { bytes: frame(r.int(16), randomPayload(r), { fin: r.next() < 0.7, rsv: r.int(8) }), kind: "unknown" };
    case 7: // invalid UTF-8 in a text message
      return { bytes: frame(1, Buffer.from([0xff, 0xfe, 0xc3])), kind: "error", code: 1007 };
    case 8: // a client frame must be masked
      return { bytes: frame(1, "unmasked", { mask: false }), kind: "error", code: 1002 };
    case 9: {
      const data = randomPayload(r);
      const fin = r.next() < 0.5;
      // Control frames: at most 125 bytes, never fragmented.
      return data.length <= 125 && fin ? { bytes: frame(9, data, { fin }), kind: "ping" } : { bytes: frame(9, data, { fin }), kind: "error", code: 1002 };
    }
    case 10: {
      const f = Buffer.from(frame(2, randomPayload(r)));
      for (let i = r.int(3); i >= 0; i--) f[r.int(f.length)] = r.int(256);
      return { bytes: f, kind: "unknown" };
    }
    default:
      return { bytes: frame(10, "pong"), kind: "pong" };
  }
}

/** Runs the model over `steps`: what must come back, and how it must end. */
function expect6455(steps: Step[]): Expectation {
  const echoes: Message[] = [];
  let partial: Message | null = null;
  for (const s of steps) {
    switch (s.kind) {
      case "unknown":
        return { echoes, close: null };
      case "close":
        return { echoes, close: s.code };
      case "error":
        // A fragment of a text message in progress is not validated as UTF-8 alone.
        return { echoes, close: partial !== null && s.code === 1007 ? 1002 : s.code };
      case "ping":
      case "pong":
        break;
      case "message":
        if (s.continuation !== (partial !== null)) return { echoes, close: 1002 };
        partial = partial === null ? { binary: s.binary, data: s.data } : { binary: partial.binary, data: Buffer.concat([partial.data, s.data]) };
        if (s.fin) {
          echoes.push(partial);
          partial = null;
        }
    }
  }
  // The test ends the case with a close 1000 of its own.
  return { echoes, close: 1000 };
}

/**
 * The data messages among the server's frames before its close frame.
 * Compressed ones are inflated with what came before them: the server keeps
 * its compression context from message to message (context takeover).
 */
function receivedMessages(frames: Frame[]): Message[] {
  const out: Message[] = [];
  const stream: Buffer[] = [];
  let inflated = 0;
  let current: { binary: boolean; compressed: boolean; parts: Buffer[] } | null = null;
  for (const f of frames) {
    if (f.opcode === 8) break;
    if (f.opcode === 1 || f.opcode === 2) current = { binary: f.opcode === 2, compressed: f.rsv1, parts: [f.payload] };
    else if (f.opcode === 0 && current !== null) current.parts.push(f.payload);
    else continue;
    if (!f.fin || current === null) continue;
    let data = Buffer.concat(current.parts);
    if (current.compressed) {
      stream.push(data, Buffer.from([0, 0, 0xff, 0xff]));
      const all = inflateRawSync(Buffer.concat(stream), { finishFlush: constants.Z_SYNC_FLUSH });
      data = all.subarray(inflated);
      inflated = all.length;
    }
    out.push({ binary: current.binary, data });
    current = null;
  }
  return out;
}

const show = (m: Message) => `${m.binary ? "binary" : "text"}(${m.data.length})`;
const sameMessages = (a: Message[], b: Message[]) => a.length === b.length && a.every((m, k) => m.binary === b[k]!.binary && m.data.equals(b[k]!.data));
/** Close codes the server may send when the model cannot say which. */
const PROPER_CLOSE = new Set([1000, 1001, 1002, 1007, 1009]);

for (const deflate of [false, true]) {
  describe(`random client frames, permessage-deflate ${deflate ? "on" : "off"}`, () => {
    let host: Host;
    /** What the app received on each connection, by request target. */
    const received = new Map<string, Session>();
    beforeAll(async () => {
      host = await startHost(
        websocket(
          function* (ws, req) {
            const session: Session = { messages: [], ended: false };
            received.set(req.target, session);
            // One case in three has a slow app: messages queue up, and the
            // connection may close before it takes them.
            const slow = Number(req.target.split("/").pop()) % 3 === 0;
            try {
              for (;;) {
                if (slow) yield* sleep(5);
                const msg = yield* ws.recv();
                if (msg === null) return;
                session.messages.push({ binary: msg.binary, data: Buffer.from(msg.data) });
                try {
                  yield* ws.send(msg.data, { binary: msg.binary });
                } catch (e) {
                  // The peer's close may overtake an echo; what it sent before still arrives.
                  if (!(e instanceof WebSocketError && e.peerGone)) throw e;
                }
              }
            } finally {
              session.ended = true;
            }
          },
          { maxPayloadBytes: MAX_PAYLOAD, pingIntervalMs: 0, ...(deflate ? { perMessageDeflate: true } : {}) },
        ),
      );
    });
    afterAll(async () => {
      await host.stop();
    });

    it(`answers ${fuzzCases().length} cases as RFC 6455 says, losing nothing (seed ${FUZZ.seed})`, { timeout: 120_000 }, async () => {
      const failures: string[] = [];
      const cases = fuzzCases();
      let next = 0;
      const worker = async () => {
        while (next < cases.length) {
          const i = cases[next++]!;
          const failure = await runCase(host, i, deflate, received);
          if (failure !== null) failures.push(`case ${i} (SKEIN_FUZZ_SEED=${FUZZ.seed} SKEIN_FUZZ_CASE=${i}): ${failure}`);
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
      expect(failures.slice(0, 5)).toEqual([]);
      // Bad frames are the client's fault: answered with a close code, never logged.
      expect(host.logs.map((l) => `${l.message}: ${String(l.error)}`)).toEqual([]);
    });
  });
}

/** One case: null when the server behaved, else what went wrong. */
async function runCase(host: Host, i: number, deflate: boolean, received: Map<string, Session>): Promise<string | null> {
  const r = new Random(FUZZ.seed * 31 + i + (deflate ? 1_000_003 : 0));
  const offer = deflate && r.next() < 0.7;
  const target = `/case/${i}`;
  const peer = await RawPeer.open(host.port, target, offer ? { "sec-websocket-extensions": "permessage-deflate" } : {});
  try {
    if (peer.status !== 101) return `handshake answered ${peer.status}`;
    const steps = Array.from({ length: 1 + r.int(6) }, () => randomStep(r));
    const want = expect6455(steps);
    const sent = steps.map((s) => `${s.kind}[${s.bytes.subarray(0, 2).toString("hex")}+${s.bytes.length - 2}]`).join(" ");
    for (const piece of randomPieces(r, Buffer.concat(steps.map((s) => s.bytes)))) {
      if (peer.ended) break;
      peer.write(piece);
      if (r.next() < 0.3) await new Promise((w) => setTimeout(w, r.int(10)));
    }
    if (!peer.ended) peer.write(frame(8, closePayload(1000)));
    // A corrupted header may declare more payload than was sent: the server
    // rightly waits for it. Zero bytes complete it, then break the framing.
    if (want.close === null) {
      await until(() => peer.ended, 500, "the end").catch(() => peer.write(Buffer.alloc(MAX_PAYLOAD + 16)));
    }
    try {
      await until(() => peer.ended, 5000, "the end");
    } catch {
      return `still open 5 s after the last frame; frames back: ${peer.frames.map((f) => f.opcode).join(",")} (frames sent: ${sent})`;
    }
    const closing = peer.frames.find((f) => f.opcode === 8);
    if (closing === undefined) return `no close frame (frames sent: ${sent})`;
    const code = closing.payload.length >= 2 ? closing.payload.readUInt16BE(0) : 1005;
    // The app may still be taking the last messages: wait for its session to end.
    try {
      await until(() => received.get(target)?.ended === true, 5000, "the session");
    } catch {
      return `the app's session did not end (frames sent: ${sent})`;
    }
    const delivered = received.get(target)!.messages;
    received.delete(target);
    const echoed = receivedMessages(peer.frames);
    if (want.close !== null) {
      if (code !== want.close) return `closed with ${code}, expected ${want.close} (frames sent: ${sent})`;
      if (!sameMessages(delivered, want.echoes)) return `app received ${delivered.map(show).join(" ")}, expected ${want.echoes.map(show).join(" ")} (frames sent: ${sent})`;
    } else {
      // Past the model: a proper close, and every message before that point delivered first.
      if (!PROPER_CLOSE.has(code) && !(code >= 3000 && code <= 4999)) return `closed with ${code} (frames sent: ${sent})`;
      if (!sameMessages(delivered.slice(0, want.echoes.length), want.echoes)) return `app received ${delivered.map(show).join(" ")}, expected first ${want.echoes.map(show).join(" ")} (frames sent: ${sent})`;
    }
    // Echoes go out in order until the close handshake cuts them short.
    if (!sameMessages(echoed, delivered.slice(0, echoed.length))) return `echoed ${echoed.map(show).join(" ")}, not a prefix of ${delivered.map(show).join(" ")} (frames sent: ${sent})`;
    return null;
  } finally {
    peer.destroy();
  }
}
