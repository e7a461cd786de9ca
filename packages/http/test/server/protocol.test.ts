// HTTP/1.1 on the wire: exact bytes in and out, every split offset,
// pipelining order, corked writes, keep-alive rules, 100-continue.
import { createServer as createNetServer, Socket } from "node:net";
import { setDefaultHighWaterMark } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, Event, sleep, spawn } from "@skein/core";
import type { Request, Response } from "../../src/app.js";
import { Prepared } from "../../src/prepared.js";
import { Router } from "../../src/router.js";
import { exchange, normalizeDate, rawSocket, ResponseReader, startServer, until, type Running } from "../helpers/server.js";

const hello = Prepared.text(200, "Hello, World!");

const router = new Router()
  .get("/hello", () => hello)
  .all("/echo", function* (req: Request, res: Response) {
    const body = yield* req.text();
    return res.text(200, `${req.method} ${req.target} ${req.headers.get("x-id") ?? "-"} [${body}]`);
  })
  .get("/slow", function* (req: Request, res: Response) {
    yield* sleep(Number(req.searchParams.get("ms") ?? 5));
    return res.text(200, `slow ${req.searchParams.get("id")}`);
  })
  .get("/stream", function* (req: Request, res: Response) {
    res.start(200, { "content-type": "text/plain" });
    yield* res.write("ab");
    yield* res.write("cde");
    res.end();
  })
  .get("/missing-ok", function* (_req: Request, res: Response) {
    return res.text(404, "none here");
  })
  .post("/continue", function* (req: Request, res: Response) {
    const body = yield* req.text();
    return res.text(200, `continued [${body}]`);
  })
  .post("/ignore-body", function* (_req: Request, res: Response) {
    return res.text(200, "ignored");
  })
  .get("/close", function* (_req: Request, res: Response) {
    return res.text(200, "bye", { connection: "close" });
  })
  .get("/short", function* (_req: Request, res: Response) {
    res.start(200, { "content-length": "10" });
    yield* res.write("abc");
    res.end(); // 7 bytes short: throws
  })
  .get("/no-content-with-body", function* (_req: Request, res: Response) {
    res.start(204);
    res.end("body!");
  })
  .get("/declared-length", function* (_req: Request, res: Response) {
    res.start(200, { "content-length": "5" });
    res.end(); // fine for HEAD only
  })
  .get("/upgrade-required", () => Prepared.text(426, "use h2c", { upgrade: "h2c", connection: "Upgrade" }))
  .get("/keep-field", function* (_req: Request, res: Response) {
    return res.text(200, "x", { connection: "keep-alive" });
  })
  .get("/prepared-head", function* (_req: Request, res: Response) {
    return res.text(200, "", { "content-length": "1234" }); // a HEAD answer: declared length, no body
  })
  .get("/wrong-prepared-length", function* (_req: Request, res: Response) {
    return res.text(200, "hello world", { "content-length": "2" });
  })
  .get("/refill", function* (req: Request, res: Response) {
    // One buffer, refilled after each write (the app may reuse it once write returns).
    const size = Number(req.searchParams.get("size"));
    const times = Number(req.searchParams.get("times") ?? 3);
    const buf = Buffer.alloc(size);
    res.start(200, { "content-length": String(times * size) });
    for (let i = 0; i < times; i++) {
      buf.fill(97 + (i % 26));
      yield* res.write(buf);
    }
    res.end();
  })
  .post("/stream-echo", function* (req: Request, res: Response) {
    res.start(200);
    for (let chunk = yield* req.read(); chunk.length > 0; chunk = yield* req.read()) yield* res.write(chunk);
    res.end();
  })
  .post("/reader-handover", function* (req: Request, res: Response) {
    // A task reading the body is cancelled; the handler reads on at once.
    const first = yield* spawn(function* () {
      return yield* req.read();
    });
    yield* sleep(5); // the first reader now waits for body bytes
    first.cancel(); // requested: it has not yet run to take the Cancelled
    return res.text(200, `body=${yield* req.text()}`);
  })
  .post("/write-then-read", function* (req: Request, res: Response) {
    res.start(200, { "content-type": "text/plain" });
    yield* res.write("head-sent;");
    res.end(`body=${yield* req.text()}`);
  });

let s: Running;
beforeAll(async () => {
  s = await startServer(router.app());
});
afterAll(async () => {
  await s.stop();
});

describe("exact bytes", () => {
  it("answers a GET with a prepared response, byte for byte", async () => {
    const r = await exchange(s.port, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n", { count: 1 });
    expect(normalizeDate(r.raw)).toBe("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\nDate: <date>\r\n\r\nHello, World!");
  });

  it("frames a streamed response as chunked", async () => {
    const r = await exchange(s.port, "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n", { count: 1 });
    expect(normalizeDate(r.raw)).toBe("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nTransfer-Encoding: chunked\r\nDate: <date>\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n");
  });

  it("streams to an HTTP/1.0 client without chunking and closes to end the body", async () => {
    const r = await exchange(s.port, "GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    expect(normalizeDate(r.raw)).toBe("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nDate: <date>\r\nConnection: close\r\n\r\nabcde");
    expect(r.closed).toBe(true);
  });

  it("says Connection: keep-alive to an HTTP/1.0 client that asked, and stays open", async () => {
    const r = await exchange(s.port, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", { count: 1, timeoutMs: 300 });
    expect(normalizeDate(r.raw)).toBe("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\nDate: <date>\r\nConnection: keep-alive\r\n\r\nHello, World!");
    expect(r.closed).toBe(false);
  });

  it("closes after an HTTP/1.0 request without keep-alive", async () => {
    const r = await exchange(s.port, "GET /hello HTTP/1.0\r\n\r\n");
    expect(normalizeDate(r.raw)).toContain("Connection: close\r\n\r\nHello, World!");
    expect(r.closed).toBe(true);
  });

  it("honours Connection: close from the client and ignores what follows", async () => {
    const r = await exchange(s.port, "GET /hello HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(r.responses).toHaveLength(1);
    expect(r.responses[0]!.header("connection")).toBe("close");
    expect(r.closed).toBe(true);
  });

  it("writes one Connection field, from the connection's fate: a handler's keep-alive does not stand beside the server's close", async () => {
    const r = await exchange(s.port, "GET /keep-field HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(r.responses[0]!.headers.filter(([n]) => n.toLowerCase() === "connection").map(([, v]) => v)).toEqual(["close"]);
    expect(r.closed).toBe(true);
  });

  it("keeps a handler's Connection options other than close and keep-alive (Upgrade beside an Upgrade field, RFC 9110 §7.8)", async () => {
    const r = await exchange(s.port, "GET /upgrade-required HTTP/1.1\r\nHost: a\r\n\r\n", { count: 1 });
    expect([r.responses[0]!.status, r.responses[0]!.header("upgrade"), r.responses[0]!.header("connection")]).toEqual([426, "h2c", "Upgrade"]);
  });

  it("honours Connection: close from the handler", async () => {
    const r = await exchange(s.port, "GET /close HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(r.responses.map((x) => x.body)).toEqual(["bye"]);
    expect(r.closed).toBe(true);
  });

  it("answers HEAD with the head only", async () => {
    const r = await exchange(s.port, "HEAD /stream HTTP/1.1\r\nHost: a\r\n\r\n", { count: 1, headIndexes: [0] });
    expect(normalizeDate(r.raw)).toBe("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nTransfer-Encoding: chunked\r\nDate: <date>\r\n\r\n");
  });
});

describe("split input", () => {
  const request = "POST /echo?x=1 HTTP/1.1\r\nHost: a\r\nX-Id: split\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n6\r\npedia \r\n0\r\n\r\n";
  const expected = "POST /echo?x=1 split [Wikipedia ]";

  /** A raw socket (Nagle off: each write is its own segment) and the first response it receives. */
  async function oneResponse(): Promise<{ socket: Socket; body: Promise<string> }> {
    const socket = await rawSocket(s.port);
    socket.setNoDelay(true);
    const reader = new ResponseReader();
    const body = new Promise<string>((resolve) => socket.on("data", (c) => {
      reader.push(c);
      if (reader.responses.length === 1) resolve(reader.responses[0]!.body);
    }));
    return { socket, body };
  }

  it("answers the same for a request split at every offset", async () => {
    const bytes = Buffer.from(request, "latin1");
    const offsets = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    for (let i = 0; i < offsets.length; i += 16) {
      await Promise.all(offsets.slice(i, i + 16).map(async (at) => {
        const { socket, body } = await oneResponse();
        socket.write(bytes.subarray(0, at));
        await new Promise((r) => setTimeout(r, 2)); // let the first part arrive as its own read
        socket.write(bytes.subarray(at));
        const got = await body;
        socket.destroy();
        expect(got, `split at ${at}`).toBe(expected);
      }));
    }
  });

  it("answers a request fed one byte at a time", async () => {
    const { socket, body } = await oneResponse();
    for (const byte of Buffer.from(request, "latin1")) {
      socket.write(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    const got = await body;
    socket.destroy();
    expect(got).toBe(expected);
  });
});

describe("pipelining", () => {
  it("answers 64 mixed pipelined requests sent in one write, in order", async () => {
    const requests: string[] = [];
    const expected: [number, string][] = [];
    const heads: number[] = [];
    for (let i = 0; i < 64; i++) {
      switch (i % 8) {
        case 0: requests.push("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n"); expected.push([200, "Hello, World!"]); break;
        case 1: requests.push(`POST /echo HTTP/1.1\r\nHost: a\r\nX-Id: ${i}\r\nContent-Length: 3\r\n\r\nabc`); expected.push([200, `POST /echo ${i} [abc]`]); break;
        case 2: requests.push(`GET /slow?id=${i}&ms=${i % 3} HTTP/1.1\r\nHost: a\r\n\r\n`); expected.push([200, `slow ${i}`]); break;
        case 3: requests.push(`PUT /echo HTTP/1.1\r\nHost: a\r\nX-Id: ${i}\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n`); expected.push([200, `PUT /echo ${i} [hi]`]); break;
        case 4: heads.push(i); requests.push("HEAD /hello HTTP/1.1\r\nHost: a\r\n\r\n"); expected.push([200, ""]); break;
        case 5: requests.push("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n"); expected.push([200, "abcde"]); break;
        case 6: requests.push(`GET /nowhere/${i} HTTP/1.1\r\nHost: a\r\n\r\n`); expected.push([404, "Not Found\n"]); break;
        default: requests.push(`GET /echo?i=${i} HTTP/1.1\r\nHost: a\r\nX-Id: ${i}\r\n\r\n`); expected.push([200, `GET /echo?i=${i} ${i} []`]);
      }
    }
    const r = await exchange(s.port, requests.join(""), { count: 64, headIndexes: heads });
    expect(r.responses.map((x) => [x.status, x.body])).toEqual(expected);
    expect(r.closed).toBe(false);
  });

  it("writes the responses to requests that arrive in one read with one socket write", async () => {
    const writes: number[] = [];
    let received = 0;
    const original = Socket.prototype.write;
    Socket.prototype.write = function (this: Socket, ...args: Parameters<Socket["write"]>) {
      if (this.localPort === s.port) writes.push(Buffer.byteLength(args[0] as Buffer));
      return original.apply(this, args);
    } as Socket["write"];
    try {
      const r = await exchange(s.port, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\n".repeat(16), { count: 16 });
      expect(r.responses).toHaveLength(16);
      received = r.raw.length;
    } finally {
      Socket.prototype.write = original;
    }
    expect(writes).toHaveLength(1);
    expect(writes[0]).toBe(received);
  });
});

describe("request body", () => {
  it("goes to the next reader at once when the task that waited for it is cancelled", async () => {
    const socket = await rawSocket(s.port);
    const got: Buffer[] = [];
    socket.on("data", (d) => got.push(d));
    socket.write("POST /reader-handover HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n");
    await new Promise((r) => setTimeout(r, 50));
    socket.write("hello");
    const reader = new ResponseReader();
    await until(() => {
      return Buffer.concat(got).includes("body=hello") || Buffer.concat(got).includes("HTTP/1.1 500");
    });
    reader.push(Buffer.concat(got));
    socket.destroy();
    expect(reader.responses.map((r) => [r.status, r.body])).toEqual([[200, "body=hello"]]);
  });
});

describe("a response that fails part-way", () => {
  it("still delivers the earlier pipelined responses and what it wrote, then closes (no reset)", async () => {
    const r = await exchange(s.port, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /short HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(r.responses[0]!.body).toBe("Hello, World!");
    expect(r.raw).toMatch(/\r\ncontent-length: 10\r\n[^]*\r\n\r\nabc$/);
    expect(r.closed).toBe(true);
  });

  it("refuses a body on a 204 before writing its head, so a 500 goes out instead", async () => {
    const r = await exchange(s.port, "GET /hello HTTP/1.1\r\nHost: a\r\n\r\nGET /no-content-with-body HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(r.responses.map((x) => x.status)).toEqual([200, 500]);
    expect(r.raw).not.toContain("204");
    expect(r.closed).toBe(true);
  });

  it("refuses a prepared response whose Content-Length field disagrees with its body (500, not a split response)", async () => {
    const r = await exchange(s.port, "GET /wrong-prepared-length HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(r.responses.map((x) => x.status)).toEqual([500]);
    expect(r.raw).not.toContain("hello world");
  });

  it("lets a prepared answer to HEAD declare a length with an empty body, and refuses it (500) for a GET", async () => {
    const head = await exchange(s.port, "HEAD /prepared-head HTTP/1.1\r\nHost: a\r\n\r\n", { count: 1, headIndexes: [0] });
    expect(head.responses.map((x) => [x.status, x.header("content-length"), x.body])).toEqual([[200, "1234", ""]]);
    const get = await exchange(s.port, "GET /prepared-head HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(get.responses.map((x) => x.status)).toEqual([500]);
  });

  it("lets a response to HEAD declare the length its GET would have, without a body", async () => {
    const r = await exchange(s.port, "HEAD /declared-length HTTP/1.1\r\nHost: a\r\n\r\nGET /hello HTTP/1.1\r\nHost: a\r\n\r\n", { count: 2, headIndexes: [0] });
    expect(r.responses.map((x) => [x.status, x.header("content-length"), x.body])).toEqual([[200, "5", ""], [200, "13", "Hello, World!"]]);
  });
});

describe("write(chunk)", () => {
  it("has sent (or copied) a chunk by the time it returns, so the buffer can be refilled: 20 KB, and 4 MiB to a client that reads late", async () => {
    for (const [size, readAfterMs] of [[20_000, 0], [4 * 1024 * 1024, 200], [60_000, 200]] as const) {
      const socket = await rawSocket(s.port);
      const parts: Buffer[] = [];
      socket.pause();
      socket.write(`GET /refill?size=${size} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
      await new Promise((r) => setTimeout(r, readAfterMs)); // meanwhile the server's socket fills up
      const all = await new Promise<Buffer>((resolve) => {
        socket.on("data", (d: Buffer) => parts.push(d));
        socket.on("end", () => resolve(Buffer.concat(parts)));
        socket.resume();
      });
      const body = all.subarray(all.indexOf("\r\n\r\n") + 4);
      expect(body.length).toBe(3 * size);
      expect([body[0], body[size], body[2 * size], body[3 * size - 1]].map((b) => String.fromCharCode(b!))).toEqual(["a", "b", "c", "c"]);
      expect(body.equals(Buffer.concat([Buffer.alloc(size, "a"), Buffer.alloc(size, "b"), Buffer.alloc(size, "c")]))).toBe(true);
    }
  });

  it("does so too where a socket's own high-water mark is 64 KiB (Node 22's default), above the chunk", async () => {
    setDefaultHighWaterMark(false, 64 * 1024);
    const s64 = await startServer(router.app()); // a server takes the mark when it is made
    try {
      const socket = await rawSocket(s64.port);
      const parts: Buffer[] = [];
      socket.pause();
      socket.write("GET /refill?size=40000&times=200 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
      await new Promise((r) => setTimeout(r, 200));
      const all = await new Promise<Buffer>((resolve) => {
        socket.on("data", (d: Buffer) => parts.push(d));
        socket.on("end", () => resolve(Buffer.concat(parts)));
        socket.resume();
      });
      const body = all.subarray(all.indexOf("\r\n\r\n") + 4);
      const expected = Buffer.concat(Array.from({ length: 200 }, (_, i) => Buffer.alloc(40_000, 97 + (i % 26))));
      expect(body.length).toBe(expected.length);
      expect(body.equals(expected)).toBe(true);
    } finally {
      setDefaultHighWaterMark(false, 16 * 1024);
      await s64.stop();
    }
  });
});

describe("framing rules", () => {
  it("answers an HTTP/1.0 request with Transfer-Encoding, then closes (RFC 9112 §6.1)", async () => {
    const r = await exchange(s.port, "POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /hello HTTP/1.0\r\n\r\n");
    expect(r.responses.map((x) => [x.body, x.header("connection")])).toEqual([["POST /echo - [abc]", "close"]]);
    expect(r.closed).toBe(true);
  });

  it("answers 400 to request codings that do not end in chunked, 501 to codings before chunked", async () => {
    const gzip = await exchange(s.port, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc");
    expect(gzip.responses.map((x) => x.status)).toEqual([400]);
    const before = await exchange(s.port, "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
    expect(before.responses.map((x) => x.status)).toEqual([501]);
  });

  it("routes an absolute-form target by its path as sent, with no dot-segment removal (as origin-form)", async () => {
    const r = await exchange(s.port, [
      "GET http://a/x/%2e%2e/hello HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET http://a/x/../hello HTTP/1.1\r\nHost: a\r\n\r\n",
      "POST http://a:80/echo?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
    ], { count: 3 });
    expect(r.responses.map((x) => [x.status, x.body])).toEqual([[404, "Not Found\n"], [404, "Not Found\n"], [200, "POST http://a:80/echo?q=1 - []"]]);
  });
});

describe("Expect: 100-continue", () => {
  it("sends 100 Continue when the handler reads the body, then the response", async () => {
    const socket = await rawSocket(s.port);
    const reader = new ResponseReader();
    let raw = "";
    const interim = new Promise<void>((resolve) => socket.on("data", (c) => {
      raw += c.toString("latin1");
      if (raw.startsWith("HTTP/1.1 100 Continue\r\n\r\n")) resolve();
    }));
    socket.write("POST /continue HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    await interim;
    expect(raw).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    const final = new Promise<void>((resolve) => socket.on("data", () => {
      if (raw.includes("continued")) resolve();
    }));
    socket.write("hello");
    await final;
    reader.push(Buffer.from(raw.slice("HTTP/1.1 100 Continue\r\n\r\n".length), "latin1"));
    socket.destroy();
    expect(reader.responses[0]!.body).toBe("continued [hello]");
  });

  it("answers without 100 Continue and closes when the handler ignores the body", async () => {
    const r = await exchange(s.port, "POST /ignore-body HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    expect(r.raw).not.toContain("100 Continue");
    expect(r.responses.map((x) => [x.body, x.header("connection")])).toEqual([["ignored", "close"]]);
    expect(r.closed).toBe(true);
  });

  it("sends no 100 Continue once the final response has begun, even if the handler then reads", async () => {
    const socket = await rawSocket(s.port);
    let raw = "";
    const done = new Promise<void>((resolve) => socket.on("data", (c) => {
      raw += c.toString("latin1");
      if (raw.endsWith("0\r\n\r\n")) resolve();
    }));
    socket.write("POST /write-then-read HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    await new Promise((r) => setTimeout(r, 100));
    socket.write("abc");
    await done;
    socket.destroy();
    expect(raw).not.toContain("100 Continue");
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\na\r\nhead-sent;\r\n8\r\nbody=abc\r\n0\r\n\r\n$/);
  });

  it("answers 417 to any other expectation", async () => {
    const r = await exchange(s.port, "POST /continue HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx");
    expect(r.responses.map((x) => x.status)).toEqual([417]);
    expect(r.closed).toBe(true);
  });
});

describe("a request body still arriving when its response ends", () => {
  /** Writes `pieces` with a pause after each, collecting what comes back until the server closes or `ms` pass. */
  async function paced(pieces: string[], ms = 600): Promise<{ raw: string; closed: boolean }> {
    const socket = await rawSocket(s.port);
    let raw = "";
    let closed = false;
    socket.on("data", (c) => (raw += c.toString("latin1")));
    socket.on("close", () => (closed = true));
    for (const piece of pieces) {
      socket.write(piece);
      await new Promise((r) => setTimeout(r, 60));
    }
    for (const t0 = Date.now(); !closed && Date.now() - t0 < ms; ) await new Promise((r) => setTimeout(r, 10));
    socket.destroy();
    return { raw: normalizeDate(raw), closed };
  }

  it("keeps the connection for a streamed echo whose body came in pieces after the head went out", async () => {
    const r = await paced(["POST /stream-echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n", "0\r\n\r\nGET /missing-ok HTTP/1.1\r\nHost: a\r\n\r\n"]);
    expect(r.raw).toBe(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nDate: <date>\r\n\r\n2\r\nxy\r\n0\r\n\r\n" +
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 9\r\nDate: <date>\r\n\r\nnone here",
    );
    expect(r.closed).toBe(false);
    // Before: the first head said Connection: close and the GET went unanswered.
  });

  it("reads and drops the rest of a small body the handler did not read, then answers the next request on the connection", async () => {
    const r = await paced(["POST /ignore-body HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", "defghijGET /missing-ok HTTP/1.1\r\nHost: a\r\n\r\n"]);
    expect(r.raw).toBe(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 7\r\nDate: <date>\r\n\r\nignored" +
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 9\r\nDate: <date>\r\n\r\nnone here",
    );
    expect(r.closed).toBe(false);
  });

  it("says Connection: close and closes when the unread rest is declared over 256 KiB", async () => {
    const r = await paced(["POST /ignore-body HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\nabc"]);
    expect(r.raw).toBe("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 7\r\nDate: <date>\r\nConnection: close\r\n\r\nignored");
    expect(r.closed).toBe(true);
  });

  it("with maxDrainBytes: 0, says Connection: close instead of reading the rest", async () => {
    const strict = await startServer(router.app(), { limits: { maxDrainBytes: 0 } });
    try {
      const r = await exchange(strict.port, "POST /ignore-body HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", { timeoutMs: 2000 });
      expect([r.responses[0]!.header("connection"), r.closed]).toEqual(["close", true]);
    } finally {
      await strict.stop();
    }
  });

  it("closes once more than 256 KiB of an unread chunked body has followed the response", async () => {
    const chunk = (n: number) => `${n.toString(16)}\r\n${"z".repeat(n)}\r\n`;
    const r = await paced([
      "POST /ignore-body HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
      chunk(200_000), chunk(100_000), "0\r\n\r\nGET /missing-ok HTTP/1.1\r\nHost: a\r\n\r\n",
    ]);
    expect(r.raw).toBe("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 7\r\nDate: <date>\r\n\r\nignored");
    expect(r.closed).toBe(true);
  });
});

describe("look-ahead", () => {
  it("parses at most maxPipelinedRequests ahead of a busy handler, then answers everything in order", async () => {
    const gate = new Event("gate");
    let entered: () => void = () => {};
    const blocked = new Promise<void>((r) => (entered = r));
    const limited = await startServer(function* (req: Request, res: Response) {
      if (req.path === "/block") {
        entered();
        yield* gate.wait();
      }
      return res.text(200, req.path);
    }, { limits: { maxPipelinedRequests: 2 } });
    try {
      const paths = ["/block", ...Array.from({ length: 20 }, (_, i) => `/r${i}`)];
      const answer = exchange(limited.port, paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: a\r\n\r\n`).join(""), { count: paths.length });
      await blocked;
      const seen: number[] = [];
      while (seen.length < 20) {
        seen.push(limited.server.queuedRequests);
        await new Promise((r) => setImmediate(r));
      }
      expect(Math.max(...seen)).toBe(2);
      gate.set();
      const r = await answer;
      expect(r.responses.map((x) => x.body)).toEqual(paths);
    } finally {
      await limited.stop();
    }
  });
});

describe("maxPipelinedRequests: 0 (one request at a time)", () => {
  it("still reads the body of the request being handled when it comes in a later read", async () => {
    const one = await startServer(function* (req: Request, res: Response) {
      return res.text(200, `got ${(yield* req.text()).length}`);
    }, { limits: { maxPipelinedRequests: 0, requestTimeoutMs: 2000 } });
    try {
      const socket = await rawSocket(one.port);
      const reader = new ResponseReader();
      socket.on("data", (d: Buffer) => reader.push(d));
      socket.write("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n");
      await new Promise((r) => setTimeout(r, 100)); // the handler is waiting for the body now
      socket.write("hello");
      const t0 = Date.now();
      while (reader.responses.length === 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
      socket.destroy();
      // Before: the reader waited for pipelining room that never came; no answer at all.
      expect(reader.responses.map((x) => x.body)).toEqual(["got 5"]);
    } finally {
      await one.stop();
    }
  });
});

describe("a task started by a handler", () => {
  it("is logged when it fails on a backend's reset while its client is still here", async () => {
    const backend = createNetServer((socket) => {
      socket.write("x");
      setTimeout(() => socket.resetAndDestroy(), 20);
    });
    await new Promise<void>((r) => backend.listen(0, "127.0.0.1", r));
    const port = (backend.address() as { port: number }).port;
    const s2 = await startServer(function* (_req: Request, res: Response) {
      yield* spawn(function* () {
        const c = yield* connect({ host: "127.0.0.1", port });
        yield* c.recv();
        yield* c.recv(); // reset
      });
      return res.text(200, "ok");
    });
    try {
      const socket = await rawSocket(s2.port);
      socket.resume();
      socket.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      const t0 = Date.now();
      while (s2.logs.length === 0 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
      socket.destroy();
      // Before: quiet, as if this client had left (the socket is always closed when such a task's end is settled).
      expect(s2.logs.map((l) => (l.error as { code?: string })?.code)).toEqual(["SKEIN_ERR_CONN_RESET"]);
    } finally {
      await s2.stop();
      backend.close();
    }
  });
});

describe("maxRequestsPerConnection", () => {
  const three = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n".repeat(2) + "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n";

  it("closes after the limit: the last response says Connection: close, pipelined requests behind it are not answered", async () => {
    const s = await startServer(router.app(), { limits: { maxRequestsPerConnection: 2 } });
    try {
      const r = await exchange(s.port, three, { timeoutMs: 2000 });
      expect(r.closed).toBe(true);
      expect(r.responses.map((x) => [x.status, x.header("connection") ?? "-"])).toEqual([[200, "-"], [200, "close"]]);
      // A new connection starts counting afresh; a streamed response is limited the same way.
      const again = await exchange(s.port, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n".repeat(3), { timeoutMs: 2000 });
      expect(again.closed).toBe(true);
      expect(again.responses.map((x) => [x.body, x.header("connection") ?? "-"])).toEqual([["abcde", "-"], ["abcde", "close"]]);
    } finally {
      await s.stop();
    }
  });

  it("is off by default: the same three requests are all answered on one connection, which stays open", async () => {
    const s = await startServer(router.app());
    try {
      const r = await exchange(s.port, three, { count: 3, timeoutMs: 2000 });
      expect(r.closed).toBe(false);
      expect(r.responses.map((x) => x.header("connection") ?? "-")).toEqual(["-", "-", "-"]);
    } finally {
      await s.stop();
    }
  });
});
