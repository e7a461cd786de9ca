// Seeded fuzzing of the client: a raw server answers with mutated, split,
// pipelined responses and then closes, resets or stays silent. Every fetch
// ends (a response, or a typed HttpError) within its timeouts; nothing is
// thrown outside the request. SKEIN_FUZZ_SEED, SKEIN_FUZZ_CASE and
// SKEIN_FUZZ_CASES as in test/server/fuzz.test.ts.
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { all, run, timeout } from "@skein/core";
import { Agent, fetch } from "../../src/client/index.js";
import { FUZZ, fuzzCases, mutate, Random, randomPieces } from "../../../../scripts/fuzz-random.js";


const RESPONSES = [
  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
  "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;e=1\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
  "HTTP/1.1 204 No Content\r\n\r\n",
  "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
  "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
  "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nclose-delimited body",
  "HTTP/1.0 200 OK\r\n\r\nold body",
  "HTTP/1.1 301 Moved\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
  "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n",
];
const TOKENS = [
  "\r\n", "\n", "\r", ":", " ", "\0", "\xff", "-1", "0\r\n\r\n", "ffffffffffffffff\r\n", "HTTP/1.1 200 OK\r\n",
  "Content-Length: 5\r\n", "Content-Length: 99999999999\r\n", "Transfer-Encoding: chunked\r\n", "Connection: close\r\n",
  "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", "X: y\r\n".repeat(3000),
];

/** What the server does with a connection whose first request names case `i`. */
const scripts = new Map<string, { pieces: Buffer[]; end: "close" | "reset" | "silent" }>();
const sockets = new Set<Socket>();
let server: Server;
let port = 0;

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let head = "";
    socket.on("data", (d) => {
      if (head === null) return;
      head += d.toString("latin1");
      const m = /^[A-Z]+ \/case\/(\d+)[? ]/.exec(head);
      if (m === null || !head.includes("\r\n\r\n")) return;
      head = null as unknown as string;
      const script = scripts.get(m[1]!)!;
      void (async () => {
        for (const piece of script.pieces) {
          if (socket.destroyed) return;
          socket.write(piece);
          await new Promise((w) => setTimeout(w, 2));
        }
        if (script.end === "close") socket.end();
        else if (script.end === "reset") socket.resetAndDestroy();
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});
afterAll(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

it(`ends every request with a response or a typed error on mutated responses (seed ${FUZZ.seed}, ${FUZZ.cases} cases)`, { timeout: 30_000 + FUZZ.cases * 40 }, async () => {
  const failures: string[] = [];
  const thrown: unknown[] = [];
  const onThrown = (e: unknown) => void thrown.push(e);
  process.on("uncaughtException", onThrown);
  process.on("unhandledRejection", onThrown);
  try {
    await run(function* () {
      const cases = fuzzCases();
      function* worker() {
        for (let i = cases.shift(); i !== undefined; i = cases.shift()) {
          const r = new Random(FUZZ.seed * 7919 + i);
          const pipelined = 1 + r.int(3);
          let text = "";
          for (let j = 0; j < pipelined; j++) text += r.next() < 0.6 ? mutate(r, r.pick(RESPONSES), TOKENS, RESPONSES) : r.pick(RESPONSES);
          scripts.set(String(i), { pieces: randomPieces(r, Buffer.from(text, "latin1")), end: r.pick(["close", "reset", "silent"] as const) });
          const method = r.next() < 0.2 ? "HEAD" : "GET";
          const agent = new Agent({ connectionsPerOrigin: 1, pipeline: pipelined, headersTimeoutMs: 500, bodyTimeoutMs: 500, idleTimeoutMs: 100, maxResponseHeadBytes: 8192 });
          try {
            const outcomes = yield* timeout(5000, all(Array.from({ length: pipelined }, (_, j) => (function* () {
              try {
                const res = yield* fetch(`http://127.0.0.1:${port}/case/${i}?j=${j}`, { agent, method });
                yield* res.bytes({ maxBytes: 100_000 });
                return null;
              } catch (e) {
                const code = (e as { code?: unknown }).code;
                return typeof code === "string" && code.startsWith("HTTP_ERR_") ? null : `threw ${String(e)}`;
              }
            })())));
            for (const o of outcomes) if (o !== null) failures.push(`case ${i}: ${o} for ${JSON.stringify(text).slice(0, 300)}`);
          } catch (e) {
            failures.push(`case ${i}: not over in 5 s (${String(e)}) for ${JSON.stringify(text).slice(0, 300)}`);
          } finally {
            agent.close();
          }
        }
      }
      yield* all(Array.from({ length: 12 }, () => worker()));
    });
  } finally {
    process.off("uncaughtException", onThrown);
    process.off("unhandledRejection", onThrown);
  }
  expect(failures).toEqual([]);
  expect(thrown).toEqual([]);
});
