// Graceful shutdown: stop accepting, close idle keep-alives, finish in-flight
// requests with Connection: close, cancel what is left after the grace period.
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { sleep, spawn } from "@skein/core";
import type { Request, Response } from "../../src/app.js";
import { Prepared } from "../../src/prepared.js";
import { exchange, rawSocket, ResponseReader, startServer } from "../helpers/server.js";

const hello = Prepared.text(200, "Hello, World!");
const events: string[] = [];
let started: () => void = () => {};

function* app(req: Request, res: Response) {
  if (req.path === "/slow") {
    started();
    try {
      yield* sleep(Number(req.searchParams.get("ms")));
      events.push("slow: done");
      return res.text(200, "finished");
    } finally {
      events.push("slow: finally");
    }
  }
  return hello;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.on("connect", () => {
      s.destroy();
      resolve(false);
    });
    s.on("error", () => resolve(true));
  });
}

describe("graceful shutdown", () => {
  it("closes idle connections, finishes in-flight requests with Connection: close, refuses new ones", async () => {
    events.length = 0;
    const s = await startServer(app);
    const idle = await rawSocket(s.port);
    const idleReader = new ResponseReader();
    idle.on("data", (d) => idleReader.push(d));
    const idleClosed = new Promise<void>((r) => idle.on("close", () => r()));
    await new Promise<void>((r) => {
      idle.once("data", () => r());
      idle.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    });

    const busy = await rawSocket(s.port);
    const busyReader = new ResponseReader();
    busy.on("data", (d) => busyReader.push(d));
    const busyClosed = new Promise<void>((r) => busy.on("close", () => r()));
    const inFlight = new Promise<void>((r) => (started = r));
    busy.write("GET /slow?ms=100 HTTP/1.1\r\nHost: a\r\n\r\n");
    await inFlight;

    const stopped = s.stop(5000);
    await idleClosed;
    expect(idleReader.responses).toHaveLength(1); // nothing more, just closed
    expect(await refused(s.port)).toBe(true);
    await busyClosed;
    await stopped;
    expect(busyReader.responses.map((r) => [r.body, r.header("connection")])).toEqual([["finished", "close"]]);
    expect(events).toEqual(["slow: done", "slow: finally"]);
    expect(s.server.connectionCount).toBe(0);
  });

  it("cancels requests still running when the grace period ends", async () => {
    events.length = 0;
    const s = await startServer(app);
    const busy = await rawSocket(s.port);
    const busyClosed = new Promise<void>((r) => busy.on("close", () => r()));
    busy.on("data", () => {});
    const inFlight = new Promise<void>((r) => (started = r));
    busy.write("GET /slow?ms=60000 HTTP/1.1\r\nHost: a\r\n\r\n");
    await inFlight;
    await s.stop(50);
    await busyClosed;
    expect(events).toEqual(["slow: finally"]);
  });

  it("closes a connection whose next request head is still arriving, without waiting out the grace period", async () => {
    const s = await startServer(app);
    const partial = await rawSocket(s.port);
    const received: Buffer[] = [];
    partial.on("data", (d: Buffer) => received.push(d));
    const closed = new Promise<void>((r) => partial.on("close", () => r()));
    // A first request answered, then half of the next head.
    await new Promise<void>((r) => {
      partial.once("data", () => r());
      partial.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    });
    partial.write("GET / HTTP/1.1\r\nHost: a\r\n");
    await new Promise((r) => setTimeout(r, 50)); // the half head has reached the server

    const t0 = performance.now();
    await Promise.all([closed, s.stop(30_000)]);
    expect(performance.now() - t0).toBeLessThan(5_000); // neither the 30 s grace period nor the 10 s headers timeout
    const reader = new ResponseReader();
    for (const d of received) reader.push(d);
    expect(reader.responses).toHaveLength(1); // the half request got no response
    expect(s.server.connectionCount).toBe(0);
  });

  it("closes a connection that only drains the rest of an answered request's body, without waiting out the grace period", async () => {
    const s = await startServer(app);
    const r = exchange(s.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nabc", { timeoutMs: 5000 });
    await new Promise((w) => setTimeout(w, 100)); // answered at once; the other 97 bytes never come
    const t0 = performance.now();
    await s.stop(30_000);
    expect(performance.now() - t0).toBeLessThan(5_000);
    const done = await r;
    expect([done.responses.map((x) => x.status), done.closed]).toEqual([[200], true]);
  });
});

describe("tasks a handler starts", () => {
  it("a failing one is logged and ends its connection, never the server", async () => {
    const s = await startServer(function* (req: Request, res: Response) {
      if (req.path === "/spawn-fail") {
        yield* spawn(function* () {
          yield* sleep(50);
          throw new Error("background boom");
        });
      }
      return hello;
    });
    try {
      const first = await exchange(s.port, "GET /spawn-fail HTTP/1.1\r\nHost: a\r\n\r\n", { timeoutMs: 2000 });
      expect(first.responses.map((r) => r.status)).toEqual([200]);
      expect(first.closed).toBe(true); // the failure ended that connection
      const next = await exchange(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { count: 1 });
      expect(next.responses.map((r) => r.body)).toEqual(["Hello, World!"]); // the server serves on
      expect(s.logs.map((l) => (l.error as Error).message)).toEqual(["background boom"]);
    } finally {
      await s.stop(500);
    }
  });

  it("a graceful close cancels them with their connection, whose responses all arrive, ended by FIN", async () => {
    const log: string[] = [];
    const s = await startServer(function* (req: Request, res: Response) {
      if (req.path === "/spawn") {
        yield* spawn(function* () {
          try {
            yield* sleep(60_000);
          } finally {
            log.push("task finally");
          }
        });
      }
      return res.text(200, "x".repeat(50_000));
    });
    const socket = await rawSocket(s.port);
    socket.pause(); // reads nothing until the close has begun
    socket.write("GET /spawn HTTP/1.1\r\nHost: a\r\n\r\n" + "GET / HTTP/1.1\r\nHost: a\r\n\r\n".repeat(9));
    await new Promise((r) => setTimeout(r, 200));
    const t0 = performance.now();
    const stopped = s.stop(3000);
    const reader = new ResponseReader();
    const ended = new Promise<string>((resolve) => {
      socket.on("data", (d: Buffer) => reader.push(d));
      socket.on("end", () => resolve("end"));
      socket.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      socket.resume();
    });
    expect(await ended).toBe("end");
    await stopped;
    expect(performance.now() - t0).toBeLessThan(2500); // not the 60 s task, nor the grace period
    expect(reader.responses.map((r) => r.body.length)).toEqual(Array(10).fill(50_000));
    expect(log).toEqual(["task finally"]);
  });

  it("a connection whose client left stops counting at once, though a task its handler started still runs", async () => {
    const s = await startServer(function* (_req: Request, res: Response) {
      yield* spawn(sleep(60_000));
      return hello;
    }, { limits: { maxConnections: 1 } });
    try {
      const first = await exchange(s.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      expect(first.responses.map((r) => r.status)).toEqual([200]);
      await new Promise((r) => setTimeout(r, 50));
      expect(s.server.connectionCount).toBe(0);
      const second = await exchange(s.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      expect(second.responses.map((r) => r.status)).toEqual([200]); // not the 503 of a full server
    } finally {
      await s.stop(100);
    }
  });
});
