import { run } from "@skein/core";
import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { load, runLoad, type LoadOptions } from "../../src/load/index.js";
import { closedPort, nodeHttpsServer, nodeServer, onRequests, rawServer, selfSignedCert, type TestServer } from "../client/servers.js";

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

const ok = (body: string, status = "200 OK") => `HTTP/1.1 ${status}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/** What a raw server does with the i-th request on a connection. */
type Answer = { send: string; afterMs?: number } | "reset" | "close" | "ignore";

/**
 * A pipelining raw server: answers each connection's requests strictly in
 * order, each `afterMs` after it arrived (and after the previous answer).
 */
async function pipelineServer(answer: (i: number) => Answer): Promise<TestServer & { requests: number; resets: number; closes: number }> {
  const s = Object.assign(await rawServer((socket: Socket) => {
    let chain = Promise.resolve();
    onRequests(socket, (_head, i) => {
      s.requests++;
      const a = answer(i);
      chain = chain.then(async () => {
        if (socket.destroyed) return;
        if (a === "ignore") return;
        if (a === "reset") {
          s.resets++;
          socket.resetAndDestroy();
          return;
        }
        if (a === "close") {
          s.closes++;
          socket.end();
          return;
        }
        if (a.afterMs) await new Promise((r) => setTimeout(r, a.afterMs));
        if (!socket.destroyed) socket.write(a.send);
      });
    });
  }), { requests: 0, resets: 0, closes: 0 });
  return s;
}

describe("load against node:http", () => {
  it("answers exactly --count requests, and the server saw exactly that many", async () => {
    let seen = 0;
    server = await nodeServer((_req, res) => {
      seen++;
      res.end("Hello, World!");
    });
    const r = await runLoad({ url: `${server.url}/`, connections: 8, pipeline: 4, count: 2000, expectBody: "Hello, World!" });
    expect([r.requests, r.responses, r.sent, seen, r.errorTotal]).toEqual([2000, 2000, 2000, 2000, 0]);
    expect(r.statusCounts).toEqual({ "200": 2000 });
    expect(r.requestsPerSec).toBeGreaterThan(0);
    expect(r.latencyMs.p50).toBeGreaterThan(0);
    expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p99);
  });

  it("in a timed run counts no more answers than the server gave", async () => {
    let seen = 0;
    server = await nodeServer((_req, res) => {
      seen++;
      res.end("x");
    });
    const r = await runLoad({ url: server.url, connections: 4, pipeline: 2, durationMs: 300 });
    expect(r.requests).toBeGreaterThan(0);
    expect(r.responses).toBeLessThanOrEqual(seen);
    expect(seen).toBeLessThanOrEqual(r.sent);
    expect(r.durationMs).toBeGreaterThanOrEqual(300);
  });

  it("does not count the warm-up", async () => {
    let seen = 0;
    server = await nodeServer((_req, res) => {
      seen++;
      res.end("x");
    });
    const r = await runLoad({ url: server.url, connections: 2, count: 50, warmupMs: 100 });
    expect([r.requests, r.sent]).toEqual([50, 50]);
    expect(seen).toBeGreaterThan(50);
  });

  it("runs 2,000 connections (their parsers grow wasm memory under the shared input view)", async () => {
    let seen = 0;
    server = await nodeServer((_req, res) => {
      seen++;
      res.end("x");
    });
    const r = await runLoad({ url: server.url, connections: 2000, count: 4000, expectBody: "x" });
    expect([r.requests, r.errorTotal, seen]).toEqual([4000, 0, 4000]);
    expect(r.peakConnected).toBeGreaterThan(1);
  });

  it("sends POST bodies and headers", async () => {
    const bodies = new Set<string>();
    server = await nodeServer((req, res) => {
      let b = "";
      req.on("data", (d) => (b += d));
      req.on("end", () => {
        bodies.add(`${req.method} ${req.headers["x-k"]} ${b}`);
        res.end();
      });
    });
    const r = await runLoad({ url: server.url, connections: 2, pipeline: 3, count: 30, method: "POST", body: "payload", headers: [["x-k", "v"]] });
    expect([r.requests, [...bodies]]).toEqual([30, ["POST v payload"]]);
  });

  it("holds a rate limit", async () => {
    let seen = 0;
    server = await nodeServer((_req, res) => {
      seen++;
      res.end("x");
    });
    const r = await runLoad({ url: server.url, connections: 4, rate: 200, durationMs: 500 });
    // 200 req/s for 0.5 s is 100 requests; a pacer cannot run ahead of its
    // schedule. The run's own clock is the measure: on a loaded machine its
    // stop timer fires late, and the requests due by then are on schedule.
    // (The pacer starts up to a few ms before the measured period.)
    const due = Math.floor((200 * (r.durationMs + 5)) / 1000) + 1;
    expect(r.durationMs).toBeGreaterThanOrEqual(499);
    expect(r.sent).toBeLessThanOrEqual(due);
    expect(r.requests).toBeGreaterThan(50);
    expect(seen).toBeLessThanOrEqual(due);
  });
});

describe("pipelined responses", () => {
  it("are matched to their requests in order, so latencies are the server's delays", async () => {
    // Request i on the connection is answered 50·(i+1) ms after it arrives.
    // With two in flight: r0 and r1 leave at 0, r2 leaves when r0 is answered
    // (50 ms) — FIFO matching gives latencies 50, 100, 150 ms; matching to the
    // wrong request would give 50, 50, 200.
    const delay = 50;
    server = await rawServer((socket) => {
      onRequests(socket, (_head, i) => {
        setTimeout(() => socket.write(ok(`r${i}`)), delay * (i + 1));
      });
    });
    const r = await runLoad({ url: server.url, connections: 1, pipeline: 2, count: 3 });
    expect([r.requests, r.errorTotal]).toEqual([3, 0]);
    const l = r.latencyMs;
    expect(l.min).toBeGreaterThanOrEqual(delay - 1);
    expect(l.min).toBeLessThan(delay + 40);
    expect(l.p50).toBeGreaterThanOrEqual(2 * delay - 1);
    expect(l.p50).toBeLessThan(2 * delay + 40);
    expect(l.max).toBeGreaterThanOrEqual(3 * delay - 1);
    expect(l.max).toBeLessThan(3 * delay + 40);
  });

  it("with 16 in flight on each connection are all counted once", async () => {
    const s = await pipelineServer(() => ({ send: ok("hello") }));
    server = s;
    const r = await runLoad({ url: s.url, connections: 4, pipeline: 16, count: 4000, expectBody: "hello" });
    expect([r.requests, r.errorTotal, s.requests]).toEqual([4000, 0, 4000]);
  });
});

describe("errors are counted by kind", () => {
  const run1 = (o: Omit<LoadOptions, "url">) => runLoad({ url: server!.url, ...o });

  it("reset: the server resets every 10th request's connection", async () => {
    const s = await pipelineServer((i) => (i === 9 ? "reset" : { send: ok("x") }));
    server = s;
    const r = await run1({ connections: 2, count: 100 });
    expect(r.requests).toBe(100);
    expect(s.resets).toBeGreaterThan(0);
    expect(r.errors.reset).toBe(s.resets);
    expect(r.errorTotal).toBe(s.resets);
  });

  it("closed: the server closes with a request in flight", async () => {
    const s = await pipelineServer((i) => (i === 4 ? "close" : { send: ok("x") }));
    server = s;
    const r = await run1({ connections: 2, count: 50 });
    expect([r.requests, r.errors.closed, r.errorTotal]).toEqual([50, s.closes, s.closes]);
  });

  it("status: responses outside the expected range do not count", async () => {
    const s = await pipelineServer((i) => ({ send: i % 3 === 2 ? ok("no", "500 Internal Server Error") : ok("x") }));
    server = s;
    const r = await run1({ connections: 1, pipeline: 3, count: 90 });
    expect([r.requests, r.responses, r.errors.status, r.statusCounts]).toEqual([60, 90, 30, { "200": 60, "500": 30 }]);
    const all2xx = await run1({ connections: 1, count: 9, expectStatus: { min: 200, max: 599 } });
    expect([all2xx.requests, all2xx.errors.status]).toEqual([9, 0]);
  });

  it("body: a body that differs from --expect-body does not count", async () => {
    const s = await pipelineServer((i) => ({ send: ok(i % 4 === 3 ? "hellp" : i % 4 === 1 ? "hello!" : "hello") }));
    server = s;
    const r = await run1({ connections: 1, pipeline: 4, count: 80, expectBody: "hello" });
    expect([r.requests, r.errors.body]).toEqual([40, 40]);
  });

  it("parse: a malformed response is llhttp's rejection, and the connection is replaced", async () => {
    const s = await pipelineServer((i) => ({ send: i === 5 ? "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n" : ok("x") }));
    server = s;
    const r = await run1({ connections: 1, count: 20 });
    expect(r.requests).toBe(20);
    expect(r.errors.parse).toBe(s.connections - 1);
    expect(r.errors.parse).toBeGreaterThan(0);
  });

  it("parse: more responses than requests", async () => {
    const s = await pipelineServer((i) => ({ send: i === 2 ? ok("x") + ok("extra") : ok("x") }));
    server = s;
    const r = await run1({ connections: 1, count: 10 });
    expect(r.errors.parse).toBeGreaterThan(0);
  });

  it("timeout: a server that stops answering", async () => {
    const s = await pipelineServer((i) => (i === 3 ? "ignore" : { send: ok("x") }));
    server = s;
    const r = await run1({ connections: 1, durationMs: 600, timeoutMs: 100 });
    expect(r.errors.timeout).toBeGreaterThan(0);
    expect(r.errors.timeout).toBe(s.connections - 1);
  });

  it("connect: nothing listening", async () => {
    const port = await closedPort();
    const r = await runLoad({ url: `http://127.0.0.1:${port}/`, connections: 2, durationMs: 200 });
    expect(r.requests).toBe(0);
    expect(r.errors.connect).toBeGreaterThan(0);
  });
});

describe("load as an operation", () => {
  it("runs inside another coroutine", async () => {
    server = await nodeServer((_req, res) => res.end("x"));
    const r = await run(function* () {
      return yield* load({ url: server!.url, connections: 1, count: 5 });
    });
    expect(r.requests).toBe(5);
  });
});

describe("TLS", () => {
  it("loads an https server (the socket taken over after the handshake)", async () => {
    const { key, cert } = selfSignedCert();
    let seen = 0;
    server = await nodeHttpsServer(key, cert, (_req, res) => {
      seen++;
      res.end("secure");
    });
    const r = await runLoad({ url: `https://127.0.0.1:${server.port}/`, connections: 4, pipeline: 4, count: 400, expectBody: "secure", tls: { ca: cert } });
    expect([r.requests, r.errorTotal, seen]).toEqual([400, 0, 400]);
    const refused = await runLoad({ url: `https://127.0.0.1:${server.port}/`, connections: 1, durationMs: 200 });
    expect([refused.requests, refused.errors.connect > 0]).toEqual([0, true]);
  });
});
