// Timeouts with short real limits (each fires within its value plus two
// sweeps); assertions are on what the client sees, never on elapsed time.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sleep } from "@skein/core";
import { compose, type Request, type Response } from "../../src/app.js";
import { accessLog } from "../../src/access-log.js";
import { Prepared } from "../../src/prepared.js";
import { exchange, rawSocket, ResponseReader, startServer, until, type Running } from "../helpers/server.js";

const hello = Prepared.text(200, "Hello, World!");
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
