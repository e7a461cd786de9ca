// Timeouts with short real limits (each fires within its value plus two
// sweeps); assertions are on what the client sees, never on elapsed time.
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "@skein/core";
import { compose, type Request, type Response } from "../../src/app.js";
import { accessLog } from "../../src/access-log.js";
import { Prepared } from "../../src/prepared.js";
import { exchange, rawSocket, ResponseReader, startServer, until, type Running } from "../helpers/server.js";

const hello = Prepared.text(200, "Hello, World!");
// More than loopback's socket buffers hold (several MB), so the download takes a while.
const BIG_BYTES = 8 * 1024 * 1024;
const BIG = Prepared.bytes(200, Buffer.alloc(BIG_BYTES, 0x62));
const events: string[] = [];

function* app(req: Request, res: Response) {
  if (req.path === "/body") {
    const body = yield* req.text();
    return res.text(200, body);
  }
  if (req.path === "/pause") {
    yield* sleep(600); // longer than every read limit of this server
    return hello;
  }
  if (req.path === "/sleep") {
    try {
      yield* sleep(10_000);
    } finally {
      events.push("sleep: finally");
    }
  }
  if (req.path === "/big") return BIG;
  if (req.path === "/start-then-read") {
    res.start(200, { "content-type": "text/plain" });
    yield* res.write("head sent; ");
    res.end(`got ${(yield* req.text()).length}`);
    return;
  }
  if (req.path === "/slower-then-read") {
    yield* sleep(2000);
    return res.text(200, `got ${(yield* req.text()).length}`);
  }
  if (req.path === "/slow-then-read") {
    yield* sleep(500); // longer than requestTimeoutMs: an auth lookup, say
    return res.text(200, `got ${(yield* req.text()).length}`);
  }
  if (req.path === "/flood") {
    res.start(200, { "content-type": "application/octet-stream" });
    const chunk = Buffer.alloc(64 * 1024, 120);
    try {
      for (let i = 0; i < 10_000; i++) yield* res.write(chunk);
    } finally {
      events.push("flood: finally");
    }
    return;
  }
  return hello;
}

let s: Running;
beforeAll(async () => {
  s = await startServer(app, {
    limits: { headersTimeoutMs: 150, requestTimeoutMs: 150, keepAliveTimeoutMs: 150, writeStallTimeoutMs: 200 },
  });
});
afterAll(async () => {
  await s.stop();
});

describe("timeouts", () => {
  it("answers 408 and closes when a head trickles in too slowly (slowloris)", async () => {
    const r = await exchange(s.port, "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ", { timeoutMs: 5000 });
    expect(r.responses.map((x) => x.status)).toEqual([408]);
    expect(r.closed).toBe(true);
  });

  it("closes a connection that never sends a byte, without a response", async () => {
    const r = await exchange(s.port, [], { timeoutMs: 5000 });
    expect(r.raw).toBe("");
    expect(r.closed).toBe(true);
  });

  it("answers 408 when the body stalls past requestTimeoutMs", async () => {
    const r = await exchange(s.port, "POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", { timeoutMs: 5000 });
    expect(r.responses.map((x) => x.status)).toEqual([408]);
    expect(r.closed).toBe(true);
  });

  it("closes, with nothing more sent, a connection whose unread body stalls after a response that did not wait for it", async () => {
    // The handler answers at once (a prepared response); the rest of the body would be read and dropped.
    const r = await exchange(s.port, "POST /ignored HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", { timeoutMs: 3000 });
    expect(r.responses.map((x) => x.status)).toEqual([200]);
    expect(r.closed).toBe(true);
    // Before: held open for ever (no clock ran once the answered body's timed out).
  });

  it("counts requestTimeoutMs from a request's first byte, even while the head is still arriving", async () => {
    // The headers timeout alone would wait 10 s; the whole-request limit ends it first.
    const strict = await startServer(app, { limits: { headersTimeoutMs: 10_000, requestTimeoutMs: 200 } });
    try {
      const r = await exchange(strict.port, "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ", { timeoutMs: 5000 });
      expect(r.responses.map((x) => x.status)).toEqual([408]);
      expect(r.closed).toBe(true);
    } finally {
      await strict.stop();
    }
  });

  it("stops a request's clock while the server, not the client, holds off reading (pipelining look-ahead full)", async () => {
    // A slow handler, a 70 KB body (past the 64 KiB look-ahead, so reading
    // pauses), then a head whose rest comes 50 ms later: all within the
    // limits as far as the client is concerned.
    const body = "b".repeat(70_000);
    const socket = await rawSocket(s.port);
    const reader = new ResponseReader();
    const three = new Promise<void>((resolve) => {
      socket.on("data", (d: Buffer) => {
        reader.push(d);
        if (reader.responses.length >= 3) resolve();
      });
      socket.on("close", () => resolve());
    });
    socket.write(`GET /pause HTTP/1.1\r\nHost: a\r\n\r\nPOST /body HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}GET /hel`);
    await new Promise((r) => setTimeout(r, 50));
    socket.write("lo HTTP/1.1\r\nHost: a\r\n\r\n");
    await three;
    socket.destroy();
    expect(reader.responses.map((x) => [x.status, x.body.length])).toEqual([[200, 13], [200, body.length], [200, 13]]);
  });

  it("closes an idle keep-alive connection after keepAliveTimeoutMs", async () => {
    const r = await exchange(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 5000 });
    expect(r.responses.map((x) => x.body)).toEqual(["Hello, World!"]);
    expect(r.closed).toBe(true);
  });

  it("cancels a handler past handlerTimeoutMs and answers 503", async () => {
    events.length = 0;
    const lines: string[] = [];
    const timed = await startServer(compose(accessLog({ write: (l) => void lines.push(l) }))(app), { limits: { handlerTimeoutMs: 100 } });
    try {
      const r = await exchange(timed.port, "GET /sleep HTTP/1.1\r\nHost: a\r\n\r\n", { count: 1, timeoutMs: 5000 });
      expect(r.responses.map((x) => x.status)).toEqual([503]);
      expect(events).toEqual(["sleep: finally"]);
      // The access log has what the client got, not the cancellation the handler saw.
      expect(lines).toEqual([expect.stringMatching(/"GET \/sleep HTTP\/1.1" 503 0 /)]);
    } finally {
      await timed.stop();
    }
  });

  it("drops a client that stops reading, while serving the others", async () => {
    events.length = 0;
    const stalled = await rawSocket(s.port);
    stalled.pause(); // never read: the server's writes back up
    let closed = false;
    stalled.on("close", () => (closed = true));
    stalled.write("GET /flood HTTP/1.1\r\nHost: a\r\n\r\n");
    // Meanwhile other clients are answered.
    for (let i = 0; i < 5; i++) {
      const ok = await exchange(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { count: 1 });
      expect(ok.responses[0]!.body).toBe("Hello, World!");
    }
    await until(() => events.includes("flood: finally"));
    stalled.resume();
    await new Promise<void>((resolve) => (closed ? resolve() : stalled.on("close", () => resolve())));
    expect(closed).toBe(true);
  });
});

describe("handler deadline and the handler's own scopes", () => {
  it("a handler that opens a timeout after an at-once operation still answers under handlerTimeoutMs", async () => {
    const { Queue, sleep, timeout } = await import("@skein/core");
    const s = await startServer(function* (_req, res) {
      yield* new Queue<number>().put(1); // completes at once
      yield* timeout(500, sleep(5));
      return res.text(200, "ok");
    }, { limits: { handlerTimeoutMs: 1000 } });
    try {
      const r = await exchange(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { count: 1 });
      expect(r.responses.map((x) => [x.status, x.body])).toEqual([[200, "ok"]]);
    } finally {
      await s.stop();
    }
  });
});

/** Sends `bytes` on a new connection, reads whatever comes, and says whether the server closed it within `ms`. */
async function closedWithin(port: number, bytes: string, ms: number): Promise<boolean> {
  const socket = await rawSocket(port);
  let closed = false;
  socket.on("close", () => (closed = true));
  socket.resume();
  socket.write(bytes);
  await new Promise((r) => setTimeout(r, ms));
  socket.destroy();
  return closed;
}

/** Reads `socket` at about `bytesPerTick` per 20 ms (a slow but steady client); resolves with all it got once it closes or `until` holds. */
function slowReader(socket: Socket, bytesPerTick: number, until: (text: string) => boolean): Promise<string> {
  socket.pause();
  const parts: Buffer[] = [];
  let text = "";
  return new Promise((resolve) => {
    const tick = setInterval(() => {
      let got = 0;
      let chunk: Buffer | null;
      while (got < bytesPerTick && (chunk = socket.read() as Buffer | null) !== null) {
        parts.push(chunk);
        got += chunk.length;
      }
      text = Buffer.concat(parts).toString("latin1");
      if (until(text) || socket.destroyed || socket.readableEnded) {
        clearInterval(tick);
        resolve(text);
      }
    }, 20);
  });
}

describe("what is and is not the client's delay", () => {
  it("closes a connection that sends only CRLF now and then: on a fresh connection at the headers timeout, after a response at the keep-alive timeout", async () => {
    for (const first of ["", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"]) {
      const socket = await rawSocket(s.port);
      let closed = false;
      socket.on("close", () => (closed = true));
      socket.resume(); // read the response, so the server's FIN is seen
      socket.write(first);
      const trickle = setInterval(() => socket.writable && socket.write("\r\n"), 50);
      await new Promise((r) => setTimeout(r, 1000));
      clearInterval(trickle);
      // Before: every CRLF restarted the clock, and the connection stayed open.
      expect([first.slice(0, 3), closed]).toEqual([first.slice(0, 3), true]);
      socket.destroy();
    }
  });

  // The kernel takes a download in steps of its socket buffer (on loopback,
  // ~1.5 MB at a time); writeStallTimeoutMs must be longer than one step at
  // the reader's pace, as the 30 s default is for all but the slowest links.
  let steady: Running;
  beforeAll(async () => {
    steady = await startServer(app, { limits: { headersTimeoutMs: 150, requestTimeoutMs: 150, writeStallTimeoutMs: 1000 } });
  });
  afterAll(async () => {
    await steady.stop();
  });

  it("does not drop a client that downloads slowly but steadily: only one that stopped reading is a write stall", async () => {
    const socket = await rawSocket(steady.port);
    socket.write("GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
    // About 3 MB/s: the 8 MiB answer takes ~2.5 s, past writeStallTimeoutMs, with no pause over 20 ms.
    const text = await slowReader(socket, 64 * 1024, (t) => t.length >= BIG_BYTES);
    // Before: aborted once the socket buffers were full, a few MB in.
    expect(text.length).toBeGreaterThanOrEqual(BIG_BYTES);
    socket.destroy();
  });

  it("stops the next request's clock while the client downloads a response: pipelined requests behind it are all answered", async () => {
    const socket = await rawSocket(steady.port);
    socket.write("GET /big HTTP/1.1\r\nHost: a\r\n\r\nGET /small HTTP/1.1\r\nHost: a\r\n\r\nGET /third HTTP/1.1\r\n");
    setTimeout(() => socket.write("Host: a\r\n\r\n"), 50);
    const text = await slowReader(socket, 64 * 1024, (t) => (t.match(/HTTP\/1\.1 200 OK/g) ?? []).length === 3 && t.endsWith("Hello, World!"));
    // Before: the head clock ran out during the download; /small was dropped and nothing answered /third.
    expect((text.match(/HTTP\/1\.1 \d{3}/g) ?? [])).toEqual(["HTTP/1.1 200", "HTTP/1.1 200", "HTTP/1.1 200"]);
    socket.destroy();
  });

  it("times an Expect: 100-continue body once the final response has begun: a client that then sends nothing is closed", async () => {
    const closed = await closedWithin(s.port, "POST /start-then-read HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", 1000);
    // Before (at the last commit): no clock for the body at all; the connection stayed open.
    expect(closed).toBe(true);
  });

  it("keeps a pipelined Expect: 100-continue body untimed while the client downloads the response before it", async () => {
    const patient = await startServer(app, { limits: { headersTimeoutMs: 1000, requestTimeoutMs: 1000, writeStallTimeoutMs: 1000 } });
    const socket = await rawSocket(patient.port);
    socket.write("GET /big HTTP/1.1\r\nHost: a\r\n\r\nPOST /slower-then-read HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    let sentBody = false;
    const text = await slowReader(socket, 64 * 1024, (t) => {
      if (!sentBody && t.includes("100 Continue")) {
        sentBody = true;
        socket.write("hello");
      }
      return t.endsWith("got 5") || / 408 /.test(t);
    });
    socket.destroy();
    await patient.stop();
    // Before: holding and restarting the read clock armed the body's clock, and the slow handler's client got a 408.
    expect((text.match(/HTTP\/1\.1 \d{3}/g) ?? [])).toEqual(["HTTP/1.1 200", "HTTP/1.1 100", "HTTP/1.1 200"]);
  });

  it("times an Expect: 100-continue body whose 100 went out while reading was held for pipelining room", async () => {
    const one = await startServer(app, { limits: { maxPipelinedRequests: 1, requestTimeoutMs: 300, headersTimeoutMs: 2000 } });
    try {
      // /pause answers after 600 ms; the POST's body is never sent.
      const closed = await closedWithin(one.port, "GET /pause HTTP/1.1\r\nHost: a\r\n\r\nPOST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", 2000);
      // Before: the clock held while the reader waited for room came back untimed; the connection stayed open.
      expect(closed).toBe(true);
    } finally {
      await one.stop();
    }
  });

  it("times a request that came whole in one read from its arrival, not from an earlier request's", async () => {
    const kept = await startServer(app, { limits: { requestTimeoutMs: 400, keepAliveTimeoutMs: 2000, headersTimeoutMs: 2000 } });
    try {
      const socket = await rawSocket(kept.port);
      const reader = new ResponseReader();
      socket.on("data", (d: Buffer) => reader.push(d));
      for (let i = 0; i < 6; i++) {
        socket.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        await new Promise((r) => setTimeout(r, 100));
      }
      socket.write("POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
      await new Promise((r) => setTimeout(r, 100));
      socket.write("hello");
      const t0 = Date.now();
      while (reader.responses.length < 7 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
      socket.destroy();
      // Before: the POST's body clock was the connection's first, long run out: 408 at once.
      expect(reader.responses.map((x) => x.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
      expect(reader.responses.at(-1)!.body).toBe("hello");
    } finally {
      await kept.stop();
    }
  });

  it("starts an Expect: 100-continue body's clock when the 100 is sent, not while the handler makes the client wait", async () => {
    const socket = await rawSocket(s.port);
    let raw = "";
    socket.on("data", (c: Buffer) => {
      raw += c.toString("latin1");
      if (raw === "HTTP/1.1 100 Continue\r\n\r\n") socket.write("hello");
    });
    socket.write("POST /slow-then-read HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    const t0 = Date.now();
    while (!raw.includes("got 5") && !raw.includes(" 408 ") && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 10));
    socket.destroy();
    // Before: a 408 after requestTimeoutMs (150), while the handler (500 ms) had not yet asked for the body.
    expect(raw).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*got 5$/);
  });
});
