// Bad input gets the right status and a closed connection, and the server
// keeps serving everyone else.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Request, Response } from "../../src/app.js";
import { Prepared } from "../../src/prepared.js";
import { exchange, normalizeDate, rawSocket, startServer, type Running } from "../helpers/server.js";

const hello = Prepared.text(200, "Hello, World!");

function* app(req: Request, res: Response) {
  if (req.method === "POST") {
    const body = yield* req.readAll({ maxBytes: 1 << 20 });
    return res.text(200, `read ${body.length}`);
  }
  return hello;
}

let s: Running;
beforeAll(async () => {
  s = await startServer(app, { limits: { maxHeadBytes: 1024, maxHeaderCount: 20, maxBodyBytes: 100 } });
});
afterAll(async () => {
  await s.stop();
});

async function expectServing(): Promise<void> {
  const ok = await exchange(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { count: 1 });
  expect(ok.responses[0]!.body).toBe("Hello, World!");
}

const cases: [string, string, number][] = [
  ["a malformed request line", "GET/ HTTP/1.1\r\nHost: a\r\n\r\n", 400],
  ["a bad method token", "G@T / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
  ["a bad header name token", "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400],
  ["both Content-Length and Transfer-Encoding (RFC 9112 §6.3)", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
  ["duplicate differing Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400],
  ["an invalid chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\nabc\r\n0\r\n\r\n", 400],
  ["obs-fold (RFC 9112 §5.2)", "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n", 400],
  ["a missing Host on HTTP/1.1 (RFC 9112 §3.2)", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400],
  ["two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
  ["a Host with a space (RFC 9112 §3.2)", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400],
  ["a Host with a path", "GET / HTTP/1.1\r\nHost: a/../b\r\n\r\n", 400],
  ["a Host with userinfo", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400],
  ["an invalid Host on HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\"b\r\n\r\n", 400],
  ["a transfer coding before chunked (RFC 9112 §6.1)", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501],
  ["Transfer-Encoding split over two field lines", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501],
  ["a head over maxHeadBytes", `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"x".repeat(2000)}\r\n\r\n`, 431],
  ["more header fields than maxHeaderCount", `GET / HTTP/1.1\r\nHost: a\r\n${Array.from({ length: 25 }, (_, i) => `X-${i}: v\r\n`).join("")}\r\n`, 431],
  ["a declared body over maxBodyBytes", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n", 413],
  ["a chunked body that grows over maxBodyBytes", `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n${"a".repeat(100)}\r\n1\r\nb\r\n0\r\n\r\n`, 413],
  ["a chunk extension over maxHeadBytes (Node's CVE-2024-22019)", `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;${"x".repeat(2000)}\r\nhello\r\n0\r\n\r\n`, 413],
  ["chunk extensions that add up over maxHeadBytes", `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${`1;e=${"y".repeat(100)}\r\na\r\n`.repeat(20)}0\r\n\r\n`, 413],
  ["HTTP/2.0 in an HTTP/1 request line", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505],
  ["HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505],
];

describe("bad input", () => {
  for (const [name, text, status] of cases) {
    it(`answers ${status} and closes for ${name}`, async () => {
      const r = await exchange(s.port, text);
      expect(r.responses.map((x) => x.status)).toEqual([status]);
      expect(r.responses[0]!.header("connection")).toBe("close");
      expect(r.closed).toBe(true);
      await expectServing();
    });
  }

  it("accepts the Host forms of RFC 3986: names, ports, IP literals, an empty value", async () => {
    for (const host of ["example.com", "example.com:8080", "127.0.0.1:80", "[::1]:8080", "xn--bcher-kva.example", "a_b.c~d", ""]) {
      const r = await exchange(s.port, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, { count: 1 });
      expect(r.responses.map((x) => x.status), host).toEqual([200]);
    }
  });

  it("accepts Transfer-Encoding: chunked in any case with trailing whitespace", async () => {
    const r = await exchange(s.port, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked \r\n\r\n3\r\nabc\r\n0\r\n\r\n", { count: 1 });
    expect(r.responses.map((x) => x.body)).toEqual(["read 3"]);
  });

  it("accepts small chunk extensions and trailers on many small chunks", async () => {
    const body = `${"1;name=value\r\nx\r\n".repeat(90)}0\r\nX-Trailer: ${"t".repeat(500)}\r\n\r\n`;
    const r = await exchange(s.port, `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${body}`, { count: 1 });
    expect([r.responses[0]!.status, r.responses[0]!.body]).toEqual([200, "read 90"]);
  });

  it("stops a chunk extension streamed across many reads: 413 and close long before it ends", async () => {
    const socket = await rawSocket(s.port);
    let received = "";
    socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    let open = true;
    socket.once("close", () => (open = false));
    socket.on("error", () => {});
    socket.write("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;");
    let sent = 0;
    while (open && sent < 1 << 20) {
      socket.write("z".repeat(256));
      sent += 256;
      await new Promise((r) => setTimeout(r, 1));
    }
    await closed;
    expect(received.startsWith("HTTP/1.1 413 ")).toBe(true);
    expect(sent).toBeLessThan(64 * 1024);
    await expectServing();
  });

  it("answers a bad body with 400 without logging it (a client fault, like a bad head)", async () => {
    const before = s.logs.length;
    const bad = await exchange(s.port, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\ng\r\n");
    expect(bad.responses.map((x) => x.status)).toEqual([400]);
    const cut = await exchange(s.port, ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\nonly part"], { timeoutMs: 200 });
    expect(cut.responses).toEqual([]);
    expect(s.logs.slice(before)).toEqual([]);
    await expectServing();
  });

  it("sends the prebuilt error bytes", async () => {
    const r = await exchange(s.port, "GET / HTTP/1.1\r\n\r\n");
    expect(normalizeDate(r.raw)).toBe("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\nDate: <date>\r\n\r\n");
  });

  it("answers the good requests pipelined before a bad one, then the error", async () => {
    const r = await exchange(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(r.responses.map((x) => x.status)).toEqual([200, 200, 400]);
    expect(r.closed).toBe(true);
  });

  it("answers 503 past maxConnections and serves the others", async () => {
    const limited = await startServer(app, { limits: { maxConnections: 2 } });
    try {
      const a = await rawSocket(limited.port);
      const b = await rawSocket(limited.port);
      // Both are accepted (a request on each proves it) before the third arrives.
      const both = await Promise.all([a, b].map((sock) => new Promise<string>((resolve) => {
        sock.once("data", (d) => resolve(d.toString("latin1")));
        sock.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      })));
      expect(both.every((t) => t.startsWith("HTTP/1.1 200 OK"))).toBe(true);
      const third = await exchange(limited.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      expect(third.responses.map((x) => x.status)).toEqual([503]);
      expect(third.closed).toBe(true);
      const again = await new Promise<string>((resolve) => {
        a.once("data", (d) => resolve(d.toString("latin1")));
        a.write("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
      });
      expect(again).toMatch(/^HTTP\/1.1 200 OK/);
      a.destroy();
      b.destroy();
    } finally {
      await limited.stop();
    }
  });
});
