// Seeded fuzzing over raw sockets: valid pipelined sequences split at random
// points are answered exactly; mutated bytes never crash, hang or misframe.
// A failure prints its case number: SKEIN_FUZZ_SEED=<seed> SKEIN_FUZZ_CASE=<n>
// replays it alone; SKEIN_FUZZ_CASES=<count> searches longer.
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "@skein/core";
import type { Request, Response } from "../../src/app.js";
import { Router } from "../../src/router.js";
import { FUZZ, fuzzCases, mutate, Random, randomPieces } from "../../../../scripts/fuzz-random.js";
import { ResponseReader, startServer, type Running } from "../helpers/server.js";

const PARALLEL = 16;
/** Each case takes up to ~0.3 s (the keep-alive timeout ends most), PARALLEL at a time. */
const TIMEOUT_MS = 30_000 + FUZZ.cases * 40;

const app = new Router()
  .get("/plain", (_req: Request, res: Response) => res.text(200, "hello\n"))
  .post("/echo", function* (req: Request, res: Response) {
    return res.bytes(200, yield* req.readAll({ maxBytes: 100_000 }));
  })
  .put("/echo", function* (req: Request, res: Response) {
    return res.text(200, yield* req.text());
  })
  .get("/stream", function* (_req: Request, res: Response) {
    res.start(200, { "content-type": "text/plain" });
    yield* res.write("a");
    yield* sleep(2);
    yield* res.write("bb");
    res.end("c");
  })
  .get("/slow", function* (_req: Request, res: Response) {
    yield* sleep(5);
    return res.text(200, "slow\n");
  })
  .get("/fail", function* () {
    throw new Error("boom");
  })
  .post("/stream-echo", function* (req: Request, res: Response) {
    res.start(200);
    for (;;) {
      const chunk = yield* req.read();
      if (chunk.length === 0) break;
      yield* res.write(chunk);
    }
    res.end();
  })
  .get("/params/:id", (req: Request, res: Response) => res.json(200, { id: req.params.id, q: req.query }))
  .get("/headers", (req: Request, res: Response) => res.json(200, req.headers.toJSON()))
  .app();

/** Valid requests; none is HEAD (the reader could not tell which answer has no body). */
const VALID = [
  "GET /plain HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET /plain HTTP/1.0\r\n\r\n",
  "GET /plain HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
  "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\nT: v\r\n\r\n",
  "PUT /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\nabc",
  "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET /fail HTTP/1.1\r\nHost: a\r\n\r\n",
  "POST /stream-echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n",
  "GET /params/%41b?x=1&y=%zz HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET /headers HTTP/1.1\r\nHost: a\r\nX-A: 1\r\nx-a: 2\r\nCookie: c=d\r\n\r\n",
  "GET /plain HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
  "GET /nowhere HTTP/1.1\r\nHost: a\r\n\r\n",
  "DELETE /plain HTTP/1.1\r\nHost: a\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
  "GET http://a/plain HTTP/1.1\r\nHost: a\r\n\r\n",
];

/** Pieces a mutation inserts: framing and smuggling material, limits, odd bytes. */
const TOKENS = [
  "\r\n", "\n", "\r", ":", " ", "\t", ";", "\0", "\x7f", "\xff", "%", "-1", "ffffffff", "99999999999999999999",
  "chunked", "HTTP/1.1", "HTTP/2.0", "CONNECT", "\r\n\r\n", "0\r\n\r\n",
  "Content-Length: 5\r\n", "Content-Length: 0\r\n", "Content-Length: 3\r\nContent-Length: 4\r\n", "Content-Length: 5000\r\n",
  "Transfer-Encoding: chunked\r\n", "Expect: 100-continue\r\n", "Connection: close\r\n", "Host: b\r\n", "Upgrade: websocket\r\nConnection: Upgrade\r\n",
  `X-Long: ${"v".repeat(1100)}\r\n`, "X: y\r\n".repeat(150), `5000\r\n${"z".repeat(5000)}\r\n`,
];

interface Outcome {
  /** "server": the server closed; "timeout": it neither answered all nor closed in time. */
  end: "server" | "timeout";
  statuses: number[];
  /** The response bytes did not parse as whole responses. */
  misframed: string | null;
  raw: string;
}

/**
 * Sends `input` in random pieces at random moments, then waits for the
 * server to close (it must: bad input, Connection: close, or the short
 * keep-alive timeout), or for `expected` responses.
 */
function send(port: number, r: Random, input: string, halfClose: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const reader = new ResponseReader();
    let misframed: string | null = null;
    let done = false;
    let timer: NodeJS.Timeout;
    const finish = (end: Outcome["end"]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      if (misframed === null) {
        try {
          reader.end();
        } catch (e) {
          misframed = String(e);
        }
      }
      resolve({ end, statuses: reader.responses.map((x) => x.status), misframed, raw: reader.raw });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish("timeout"), 4000);
    };
    arm();
    socket.on("data", (chunk) => {
      if (misframed !== null) return;
      try {
        reader.push(chunk);
      } catch (e) {
        misframed = String(e);
      }
    });
    socket.on("close", () => finish("server"));
    socket.on("error", () => finish("server"));
    const bytes = Buffer.from(input, "latin1");
    // The schedule is drawn up front: the case replays the same whatever the timing.
    const pieces = randomPieces(r, bytes).map((piece) => [piece, r.next() < 0.3 ? r.int(15) : 0] as const);
    void (async () => {
      for (const [piece, pause] of pieces) {
        if (done) return;
        socket.write(piece);
        if (pause > 0) await new Promise((w) => setTimeout(w, pause));
      }
      if (halfClose && !done) socket.end();
      arm();
    })();
  });
}

/** Runs the cases, `PARALLEL` at a time; returns the failures, described. */
async function runCases(check: (index: number) => Promise<string | null>): Promise<string[]> {
  const failures: string[] = [];
  const cases = fuzzCases();
  const worker = async () => {
    for (let i = cases.shift(); i !== undefined; i = cases.shift()) {
      const failure = await check(i);
      if (failure !== null) failures.push(failure);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return failures;
}

// Short clocks, with room for a loaded machine: a valid case must never meet one mid-request.
const LIMITS = { maxHeadBytes: 1024, maxBodyBytes: 4096, headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 250, maxPipelinedRequests: 3, maxLookaheadBytes: 512 };

describe(`HTTP server fuzzing (seed ${FUZZ.seed}, ${FUZZ.cases} cases)`, () => {
  let s: Running;
  beforeAll(async () => {
    s = await startServer(app, { limits: LIMITS });
  });
  afterAll(async () => {
    await s.stop();
  });

  it("answers valid pipelined requests split at random points exactly as when sent alone", { timeout: TIMEOUT_MS }, async () => {
    // What each request alone gets, and whether its answer closes the connection.
    const alone = await Promise.all(VALID.map(async (request) => {
      const out = await send(s.port, new Random(1), request, false);
      return { statuses: out.statuses, closes: /\r\nConnection: close\r\n/i.test(out.raw) };
    }));
    const failures = await runCases(async (i) => {
      const r = new Random(FUZZ.seed + i);
      const picked = Array.from({ length: 1 + r.int(6) }, () => r.int(VALID.length));
      const expected: number[] = [];
      for (const k of picked) {
        expected.push(...alone[k]!.statuses);
        if (alone[k]!.closes) break;
      }
      const out = await send(s.port, r, picked.map((k) => VALID[k]).join(""), false);
      if (out.end === "server" && out.misframed === null && JSON.stringify(out.statuses) === JSON.stringify(expected)) return null;
      return `case ${i} (requests ${picked}): expected ${JSON.stringify(expected)}, got ${JSON.stringify(out)}`;
    });
    expect(failures).toEqual([]);
  });

  it("never crashes, hangs or misframes on mutated requests, and goes on serving", { timeout: TIMEOUT_MS }, async () => {
    s.logs.length = 0;
    const failures = await runCases(async (i) => {
      const r = new Random(FUZZ.seed ^ (0x5bd1e995 + i));
      let input = Array.from({ length: 1 + r.int(4) }, () => (r.next() < 0.6 ? mutate(r, r.pick(VALID), TOKENS, VALID).replace(/HEAD/g, "HEXD") : r.pick(VALID))).join("");
      if (r.next() < 0.25) {
        // A request cut short: the server's clocks must end the wait.
        const last = r.pick(VALID);
        input += last.slice(0, 1 + r.int(last.length - 1));
      }
      const out = await send(s.port, r, input, r.next() < 0.5);
      if (out.end === "server" && out.misframed === null) return null;
      return `case ${i}: ${JSON.stringify(input)} got ${JSON.stringify(out)}`;
    });
    expect(failures).toEqual([]);
    // Only the handler meant to fail is ever logged.
    expect(s.logs.filter((l) => !/^skein http: GET \/fail /.test(l.message)).map((l) => `${l.message}: ${String(l.error)}`)).toEqual([]);
    const after = await send(s.port, new Random(1), "GET /plain HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false);
    expect(after.statuses).toEqual([200]);
    // Every connection has been let go.
    await new Promise((w) => setTimeout(w, 100));
    expect(s.server.connectionCount).toBe(0);
  });
});
