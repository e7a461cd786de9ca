/**
 * The demo's HTTP contract, through the real started process and raw sockets:
 * exact status lines, headers and framing.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemo, type Demo } from "./support/demo-process.js";
import { get, RawConn, request } from "./support/raw-http.js";

let demo: Demo;
beforeAll(async () => {
  demo = await startDemo();
});
afterAll(async () => {
  await demo?.stop();
});

const IMF_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

describe("GET /plaintext", () => {
  it("answers 200 text/plain Hello, World! with Content-Length 13, Date and Server", async () => {
    const res = await request(demo.port, get("/plaintext"));
    expect(res.statusLine).toBe("HTTP/1.1 200 OK");
    expect(res.headers["content-type"]).toMatch(/^text\/plain(;|$)/);
    expect(res.headers["content-length"]).toBe("13");
    expect(res.headers["date"]).toMatch(IMF_DATE);
    expect(res.headers["server"]).toBeTruthy();
    expect(res.headers["transfer-encoding"]).toBeUndefined();
    expect(res.body.toString()).toBe("Hello, World!");
  });

  it("answers 64 pipelined requests in one write, in order, on one connection", async () => {
    const conn = await RawConn.open(demo.port);
    try {
      const paths = Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? "/json" : i % 3 === 1 ? "/plaintext" : `/nope-${i}`));
      conn.write(paths.map((p) => get(p)).join(""));
      for (const p of paths) {
        const res = await conn.response();
        if (p === "/json") expect(res.body.toString()).toBe('{"message":"Hello, World!"}');
        else if (p === "/plaintext") expect(res.body.toString()).toBe("Hello, World!");
        else expect(res.status).toBe(404);
      }
    } finally {
      conn.close();
    }
  });
});

describe("GET /json", () => {
  it('answers 200 application/json {"message":"Hello, World!"}', async () => {
    const res = await request(demo.port, get("/json"));
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json(;|$)/);
    expect(res.body.toString()).toBe('{"message":"Hello, World!"}');
    expect(Number(res.headers["content-length"])).toBe(res.body.length);
  });
});

describe("GET /", () => {
  it("serves the chat page as text/html", async () => {
    const res = await request(demo.port, get("/"));
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.body.toString()).toContain("/ws/chat");
  });
});

describe("POST /echo", () => {
  it("echoes a Content-Length body byte for byte with the same Content-Type", async () => {
    const body = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const res = await request(
      demo.port,
      Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-test; v=1\r\nContent-Length: ${body.length}\r\n\r\n`), body]),
    );
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toBe("application/x-test; v=1");
    expect(res.body.equals(body)).toBe(true);
  });

  it("echoes a chunked body", async () => {
    const conn = await RawConn.open(demo.port);
    try {
      conn.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
      conn.write("1;ext=1\r\n,\r\n6\r\n world\r\n0\r\n\r\n");
      const res = await conn.response();
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("text/plain");
      expect(res.body.toString()).toBe("hello, world");
    } finally {
      conn.close();
    }
  });

  it("streams a 4 MiB body back intact", async () => {
    const body = Buffer.alloc(4 << 20);
    for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
    const res = await request(
      demo.port,
      Buffer.concat([Buffer.from(`POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`), body]),
      { timeoutMs: 20_000 },
    );
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(body.length);
    expect(res.body.equals(body)).toBe(true);
  });

  it("echoes an empty body", async () => {
    const res = await request(demo.port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(0);
  });
});

describe("GET /stream", () => {
  it("sends N chunks of M bytes of x, chunked", async () => {
    const res = await request(demo.port, get("/stream?chunks=5&size=7"));
    expect(res.status).toBe(200);
    expect(res.headers["transfer-encoding"]).toBe("chunked");
    expect(res.chunks?.map((c) => c.toString())).toEqual(Array(5).fill("xxxxxxx"));
  });

  it("sends big chunks whole: 3 × 100000 bytes", async () => {
    const res = await request(demo.port, get("/stream?chunks=3&size=100000"));
    expect(res.chunks?.length).toBe(3);
    for (const c of res.chunks!) expect(c.equals(Buffer.alloc(100000, "x"))).toBe(true);
  });

  it("costs no memory per request: 30 clients that never read 16 MiB chunks do not pin 16 MiB each", async () => {
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${demo.child.pid}/status`, "utf8"))![1]) * 1024;
    await request(demo.port, get("/stream?chunks=1&size=16777216")); // the shared buffer is made once
    const before = rss();
    const idle = await Promise.all(Array.from({ length: 30 }, async () => {
      const c = await RawConn.open(demo.port);
      c.socket.pause(); // never reads
      c.socket.write("GET /stream?chunks=1000&size=16777216 HTTP/1.1\r\nHost: t\r\n\r\n");
      return c;
    }));
    await new Promise((r) => setTimeout(r, 500));
    const grown = rss() - before;
    for (const c of idle) c.socket.destroy();
    expect(grown).toBeLessThan(100 * 1024 * 1024); // a buffer per request: 480 MiB
  });

  it("answers 400 for a bad chunks or size", async () => {
    for (const q of ["chunks=-1&size=1", "chunks=2&size=abc", "chunks=1e3&size=1"]) {
      const res = await request(demo.port, get(`/stream?${q}`));
      expect(res.status, q).toBe(400);
    }
  });
});

describe("GET /sleep", () => {
  it("answers slept N after at least N ms", async () => {
    const started = performance.now();
    const res = await request(demo.port, get("/sleep?ms=150"));
    expect(performance.now() - started).toBeGreaterThanOrEqual(145);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe("slept 150");
  });

  it("sleeps on a timer: other requests are answered meanwhile", async () => {
    const order: string[] = [];
    const sleeping = request(demo.port, get("/sleep?ms=800")).then((r) => order.push(r.body.toString()));
    const quick = await Promise.all(Array.from({ length: 10 }, () => request(demo.port, get("/plaintext"))));
    order.push(`quick ${quick.length}`);
    await sleeping;
    expect(order).toEqual(["quick 10", "slept 800"]);
  });

  it("answers 400 for a bad ms", async () => {
    const res = await request(demo.port, get("/sleep?ms=soon"));
    expect(res.status).toBe(400);
  });
});

describe("HEAD", () => {
  it.each(["/", "/plaintext", "/json", "/stream?chunks=2&size=3", "/sleep?ms=1"])("HEAD %s has GET's status and headers and no body", async (path) => {
    const conn = await RawConn.open(demo.port);
    try {
      // A GET pipelined after the HEAD shows where the HEAD response ends.
      conn.write(get(path, "HEAD") + get("/plaintext"));
      const head = await conn.response({ headOnly: true });
      const next = await conn.response();
      expect(head.status).toBe(200);
      expect(next.statusLine).toBe("HTTP/1.1 200 OK");
      expect(next.body.toString()).toBe("Hello, World!");
      const full = await request(demo.port, get(path));
      expect(head.headers["content-type"]).toBe(full.headers["content-type"]);
      if (full.headers["content-length"] !== undefined) expect(head.headers["content-length"]).toBe(full.headers["content-length"]);
    } finally {
      conn.close();
    }
  });
});

describe("anything else", () => {
  it.each([
    ["GET", "/nope"],
    ["GET", "/plaintext/extra"],
    ["POST", "/plaintext"],
    ["DELETE", "/"],
    ["GET", "/echo"],
    ["PUT", "/echo"],
    ["GET", "/ws"],
  ])("%s %s is 404", async (method, path) => {
    const body = method === "GET" || method === "DELETE" ? "" : "Content-Length: 0\r\n";
    const res = await request(demo.port, get(path, method, body));
    expect(res.status).toBe(404);
  });
});
