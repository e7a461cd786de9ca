import { all, run, spawn, cancel, sleep, yieldNow } from "@skein/core";
import type { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Agent, fetch, ResponseResetError } from "../../src/client/index.js";
import { nodeServer, onRequests, rawServer, until, type TestServer } from "./servers.js";

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe("keep-alive pools", () => {
  it("reuses one connection for sequential requests", async () => {
    server = await nodeServer((req, res) => res.end(req.url));
    const bodies = await run(function* () {
      const agent = new Agent();
      const out: string[] = [];
      for (let i = 0; i < 10; i++) out.push(yield* (yield* fetch(`${server!.url}/${i}`, { agent })).text());
      agent.close();
      return out;
    });
    expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `/${i}`));
    expect(server.connections).toBe(1);
  });

  it("opens at most connectionsPerOrigin connections and queues the rest", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    server = await nodeServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end(req.url);
      }, 2);
    });
    const bodies = await run(function* () {
      const agent = new Agent({ connectionsPerOrigin: 3 });
      const ops = Array.from({ length: 12 }, (_, i) =>
        (function* () {
          return yield* (yield* fetch(`${server!.url}/${i}`, { agent })).text();
        })(),
      );
      const out = yield* all(ops);
      agent.close();
      return out;
    });
    expect(bodies).toEqual(Array.from({ length: 12 }, (_, i) => `/${i}`));
    expect(server.connections).toBe(3);
    expect(maxInFlight).toBe(3);
  });

  it("retries an idempotent request once when a reused connection turns out closed", async () => {
    server = await rawServer((socket) => {
      onRequests(socket, (_head, i) => {
        // Each connection answers its first request and hangs up on the second.
        if (i === 0) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        else socket.end();
      });
    });
    const got = await run(function* () {
      const agent = new Agent();
      const a = yield* (yield* fetch(server!.url, { agent })).text();
      const b = yield* (yield* fetch(server!.url, { agent })).text();
      agent.close();
      return [a, b];
    });
    expect(got).toEqual(["ok", "ok"]);
    expect(server.connections).toBe(2);
  });
});

describe("pipelining", () => {
  it("sends requests back to back on one connection and matches responses in order", async () => {
    const arrivedBeforeFirstAnswer: string[] = [];
    server = await rawServer((socket) => {
      const paths: string[] = [];
      onRequests(socket, (head) => {
        paths.push(head.split(" ")[1]!);
        if (paths.length < 8) return;
        arrivedBeforeFirstAnswer.push(...paths);
        // Answer all eight at once, in order, with bodies of different lengths.
        socket.write(paths.map((p) => `HTTP/1.1 200 OK\r\nContent-Length: ${p.length}\r\n\r\n${p}`).join(""));
      });
    });
    const bodies = await run(function* () {
      const agent = new Agent({ connectionsPerOrigin: 1, pipeline: 8 });
      const ops = Array.from({ length: 8 }, (_, i) =>
        (function* () {
          return yield* (yield* fetch(`${server!.url}/r${"x".repeat(i)}`, { agent })).text();
        })(),
      );
      const out = yield* all(ops);
      agent.close();
      return out;
    });
    const expected = Array.from({ length: 8 }, (_, i) => `/r${"x".repeat(i)}`);
    expect(bodies).toEqual(expected);
    expect(arrivedBeforeFirstAnswer).toEqual(expected);
    expect(server.connections).toBe(1);
  });

  it("buffers a response whose body nobody reads yet while a later one is read", async () => {
    server = await rawServer((socket) => {
      const heads: string[] = [];
      onRequests(socket, (head) => {
        heads.push(head);
        if (heads.length === 2) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirstHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
      });
    });
    const got = await run(function* () {
      const agent = new Agent({ pipeline: 2, connectionsPerOrigin: 1 });
      const t1 = yield* spawn(fetch(`${server!.url}/1`, { agent }));
      const t2 = yield* spawn(fetch(`${server!.url}/2`, { agent }));
      const r2 = yield* t2;
      const second = yield* r2.text();
      const first = yield* (yield* t1).text();
      agent.close();
      return [first, second];
    });
    expect(got).toEqual(["first", "second"]);
  });
});

describe("pipelining backpressure (maxBufferedBodyBytes)", () => {
  const big = Buffer.alloc(200 * 1024, "a");
  function answerBoth(socket: Socket): void {
    let n = 0;
    onRequests(socket, () => {
      if (++n < 2) return;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${big.length}\r\n\r\n`);
      socket.write(big);
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
    });
  }

  it("stops reading ahead past an unread body, and goes on once it is read", async () => {
    server = await rawServer(answerBoth);
    const got = await run(function* () {
      const agent = new Agent({ pipeline: 2, connectionsPerOrigin: 1, maxBufferedBodyBytes: 16 * 1024 });
      const t1 = yield* spawn(fetch(`${server!.url}/1`, { agent }));
      const t2 = yield* spawn(fetch(`${server!.url}/2`, { agent }));
      const r1 = yield* t1;
      yield* sleep(100); // the whole exchange is on our socket by now
      const secondArrivedEarly = t2.isDone; // read ahead only up to the limit: not yet
      const first = yield* r1.bytes({ maxBytes: 1 << 20 });
      const second = yield* (yield* t2).text();
      agent.close();
      return { secondArrivedEarly, first: first.length, second };
    });
    expect(got).toEqual({ secondArrivedEarly: false, first: big.length, second: "second" });
  });

  it("a later response waits for an unread body only as long as its headers timeout", async () => {
    server = await rawServer(answerBoth);
    const got = await run(function* () {
      const agent = new Agent({ pipeline: 2, connectionsPerOrigin: 1, maxBufferedBodyBytes: 16 * 1024 });
      yield* spawn(fetch(`${server!.url}/1`, { agent })); // its body is never read
      try {
        yield* fetch(`${server!.url}/2`, { agent, headersTimeoutMs: 200 });
        return "answered";
      } catch (e) {
        return (e as { code?: string }).code;
      } finally {
        agent.close();
      }
    });
    expect(got).toBe("HTTP_ERR_RESPONSE_TIMEOUT");
  });

  it("reads ahead without limit when it is 0, as before", async () => {
    server = await rawServer(answerBoth);
    const got = await run(function* () {
      const agent = new Agent({ pipeline: 2, connectionsPerOrigin: 1, maxBufferedBodyBytes: 0 });
      const t1 = yield* spawn(fetch(`${server!.url}/1`, { agent }));
      const second = yield* (yield* (yield* spawn(fetch(`${server!.url}/2`, { agent })))).text();
      const first = yield* (yield* t1).bytes({ maxBytes: 1 << 20 });
      agent.close();
      return [first.length, second];
    });
    expect(got).toEqual([big.length, "second"]);
  });
});

describe("cancellation", () => {
  it("discards the connection of a cancelled request and fails requests pipelined behind it", async () => {
    const sockets: Socket[] = [];
    server = await rawServer((socket) => {
      sockets.push(socket);
      onRequests(socket, (head) => {
        if (head.startsWith("GET /fast")) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfast");
        // "/slow" and "/behind" are never answered on the first connection.
      });
    });
    const got = await run(function* () {
      const agent = new Agent({ pipeline: 2, connectionsPerOrigin: 1 });
      const slow = yield* spawn(fetch(`${server!.url}/slow`, { agent }));
      const behind = yield* spawn(function* () {
        try {
          yield* fetch(`${server!.url}/behind`, { agent });
          return "answered";
        } catch (e) {
          return e instanceof ResponseResetError ? e.code : String(e);
        }
      });
      yield* sleep(20); // both requests are on the wire
      yield* cancel(slow);
      const behindOutcome = yield* behind;
      const fast = yield* (yield* fetch(`${server!.url}/fast`, { agent })).text();
      agent.close();
      return [behindOutcome, fast];
    });
    expect(got).toEqual(["HTTP_ERR_RESPONSE_RESET", "fast"]);
    expect(server.connections).toBe(2);
    await until(() => sockets[0]!.destroyed, "the discarded connection closes on the server");
  });

  it("a request cancelled while reading its body does not give its connection back", async () => {
    server = await rawServer((socket) => {
      onRequests(socket, (head) => {
        if (head.startsWith("GET /partial")) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome");
        else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      });
    });
    const got = await run(function* () {
      const agent = new Agent({ connectionsPerOrigin: 1 });
      const reader = yield* spawn(function* () {
        const res = yield* fetch(`${server!.url}/partial`, { agent });
        yield* res.text();
      });
      for (let i = 0; i < 50 && agent.pools.size === 0; i++) yield* yieldNow();
      yield* sleep(20);
      yield* cancel(reader);
      const text = yield* (yield* fetch(`${server!.url}/ok`, { agent })).text();
      agent.close();
      return text;
    });
    expect(got).toBe("ok");
    expect(server.connections).toBe(2);
  });
});
