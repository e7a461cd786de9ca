import { join, run, sleep, spawn } from "@skein/core";
import { afterEach, describe, expect, it } from "vitest";
import { Agent, fetch, serializeRequestHead, TooManyRedirectsError } from "../../src/client/index.js";
import { nodeServer, onRequests, rawServer, type TestServer } from "./servers.js";

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** Runs `body` with a fresh agent that is closed afterwards. */
function withAgent<T>(body: (agent: Agent) => Generator<unknown, T, any>, options = {}): Promise<T> {
  return run(function* () {
    const agent = new Agent(options);
    try {
      return yield* body(agent);
    } finally {
      agent.close();
    }
  });
}

function readAll(req: import("node:http").IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => resolve(Buffer.concat(parts)));
  });
}

describe("fetch", () => {
  it("returns the status, lazy headers and the body as text", async () => {
    server = await nodeServer((req, res) => {
      res.setHeader("x-path", req.url!);
      res.setHeader("set-cookie", ["a=1", "b=2"]);
      res.end("hello");
    });
    const got = await withAgent(function* (agent) {
      const res = yield* fetch(`${server!.url}/p?q=1`, { agent });
      return { status: res.status, ok: res.ok, path: res.headers.get("X-Path"), cookies: res.headers.getAll("set-cookie"), text: yield* res.text(), statusText: res.statusText };
    });
    expect(got).toEqual({ status: 200, ok: true, path: "/p?q=1", cookies: ["a=1", "b=2"], text: "hello", statusText: "OK" });
  });

  it("reads JSON, streams pieces with read(), and gives HEAD and 204 no body", async () => {
    server = await nodeServer((req, res) => {
      if (req.url === "/json") return res.end(JSON.stringify({ a: [1, 2] }));
      if (req.url === "/none") return res.writeHead(204).end();
      if (req.method === "HEAD") return res.writeHead(200, { "content-length": "5" }).end();
      res.write("ab");
      setTimeout(() => res.end("cd"), 5);
    });
    const got = await withAgent(function* (agent) {
      const json = yield* (yield* fetch(`${server!.url}/json`, { agent })).json();
      const streamed = yield* fetch(`${server!.url}/stream`, { agent });
      const pieces: string[] = [];
      for (let p; (p = yield* streamed.read()).length > 0; ) pieces.push(p.toString());
      const head = yield* fetch(`${server!.url}/`, { agent, method: "HEAD" });
      const none = yield* fetch(`${server!.url}/none`, { agent });
      return { json, pieces: pieces.join(""), head: [head.status, head.headers.get("content-length"), (yield* head.text())], none: [none.status, yield* none.text()] };
    });
    expect(got).toEqual({ json: { a: [1, 2] }, pieces: "abcd", head: [200, "5", ""], none: [204, ""] });
  });

  it("sends a fixed body with Content-Length", async () => {
    let seen: { method: string; length: string | undefined; te: string | undefined; body: string } | null = null;
    server = await nodeServer(async (req, res) => {
      const body = (await readAll(req)).toString();
      seen = { method: req.method!, length: req.headers["content-length"], te: req.headers["transfer-encoding"], body };
      res.end("ok");
    });
    await withAgent(function* (agent) {
      yield* (yield* fetch(server!.url, { agent, method: "post", body: "héllo", headers: { "content-type": "text/plain" } })).discard();
    });
    expect(seen).toEqual({ method: "POST", length: "6", te: undefined, body: "héllo" });
  });

  it("uploads chunked from a generator and from a writer coroutine", async () => {
    const bodies: [string | undefined, string][] = [];
    server = await nodeServer(async (req, res) => {
      bodies.push([req.headers["transfer-encoding"], (await readAll(req)).toString()]);
      res.end();
    });
    await withAgent(function* (agent) {
      function* parts() {
        yield "one,";
        yield "";
        yield Buffer.from("two");
      }
      yield* (yield* fetch(server!.url, { agent, method: "PUT", body: parts() })).discard();
      yield* (yield* fetch(server!.url, {
        agent,
        method: "POST",
        body: function* (write) {
          for (let i = 0; i < 3; i++) {
            yield* write(`${i};`);
            yield* sleep(1);
          }
        },
      })).discard();
    });
    expect(bodies).toEqual([["chunked", "one,two"], ["chunked", "0;1;2;"]]);
  });

  it("rejects header values that would split the request", () => {
    expect(() => serializeRequestHead({ method: "GET", path: "/", host: "h", headers: { x: "a\r\nEvil: 1" }, framing: { kind: "none" } })).toThrow(TypeError);
    expect(() => serializeRequestHead({ method: "GE T", path: "/", host: "h", framing: { kind: "none" } })).toThrow(TypeError);
    expect(serializeRequestHead({ method: "GET", path: "/a", host: "h:1", headers: [["X-A", "1"]], framing: { kind: "length", length: 3 } }).toString())
      .toBe("GET /a HTTP/1.1\r\nhost: h:1\r\nX-A: 1\r\ncontent-length: 3\r\n\r\n");
  });
});

describe("redirects", () => {
  async function redirecting(): Promise<TestServer> {
    return nodeServer(async (req, res) => {
      const body = (await readAll(req)).toString();
      const m = /^\/hop\/(\d+)$/.exec(req.url!);
      if (m) {
        const n = Number(m[1]);
        return res.writeHead(302, { location: n > 1 ? `/hop/${n - 1}` : "/done" }).end("moving");
      }
      if (req.url === "/see-other") return res.writeHead(303, { location: "/done" }).end();
      if (req.url === "/temp") return res.writeHead(307, { location: "/done" }).end();
      res.end(JSON.stringify({ method: req.method, body, auth: req.headers.authorization ?? null }));
    });
  }

  it("are not followed by default", async () => {
    server = await redirecting();
    const got = await withAgent(function* (agent) {
      const res = yield* fetch(`${server!.url}/hop/1`, { agent });
      return [res.status, res.headers.get("location"), yield* res.text()];
    });
    expect(got).toEqual([302, "/done", "moving"]);
  });

  it("are followed when asked, up to maxRedirects", async () => {
    server = await redirecting();
    const got = await withAgent(function* (agent) {
      const res = yield* fetch(`${server!.url}/hop/3`, { agent, redirect: "follow", maxRedirects: 3 });
      const ok = [res.status, res.redirected, res.url, yield* res.json()];
      try {
        yield* fetch(`${server!.url}/hop/3`, { agent, redirect: "follow", maxRedirects: 2 });
        return [ok, "no error"];
      } catch (e) {
        return [ok, e instanceof TooManyRedirectsError ? [e.code, e.maxRedirects] : e];
      }
    });
    expect(got).toEqual([
      [200, true, `${server.url}/done`, { method: "GET", body: "", auth: null }],
      ["HTTP_ERR_TOO_MANY_REDIRECTS", 2],
    ]);
  });

  it("turn a POST into a GET on 303 and repeat it on 307", async () => {
    server = await redirecting();
    const got = await withAgent(function* (agent) {
      const a = yield* fetch(`${server!.url}/see-other`, { agent, method: "POST", body: "x", redirect: "follow" });
      const b = yield* fetch(`${server!.url}/temp`, { agent, method: "POST", body: "y", redirect: "follow", headers: { authorization: "t" } });
      return [yield* a.json(), yield* b.json()];
    });
    expect(got).toEqual([{ method: "GET", body: "", auth: null }, { method: "POST", body: "y", auth: "t" }]);
  });

  it("drop credentials, and a Host the caller set, when the redirect leaves the origin", async () => {
    const other = await nodeServer((req, res) => res.end(`${req.headers.authorization ?? "none"} ${req.headers.host}`));
    try {
      server = await nodeServer((_req, res) => res.writeHead(302, { location: `${other.url}/x` }).end());
      const got = await withAgent(function* (agent) {
        const res = yield* fetch(server!.url, { agent, redirect: "follow", headers: { authorization: "secret", host: "a.example" } });
        return yield* res.text();
      });
      expect(got).toBe(`none 127.0.0.1:${other.port}`);
    } finally {
      await other.close();
    }
  });

  it("hand back a 307 for a streamed body with its own body unread", async () => {
    server = await nodeServer(async (req, res) => {
      await readAll(req);
      res.writeHead(307, { location: "/elsewhere" }).end("please re-POST to /elsewhere");
    });
    const got = await withAgent(function* (agent) {
      const res = yield* fetch(server!.url, { agent, method: "POST", redirect: "follow", body: (function* () { yield "a"; yield "b"; })() });
      return [res.status, yield* res.text()];
    });
    expect(got).toEqual([307, "please re-POST to /elsewhere"]);
  });
});

describe("request bodies that fail", () => {
  it("a streamed body that throws fails fetch with that error, and the next request gets a fresh connection", async () => {
    server = await nodeServer(async (req, res) => {
      await readAll(req).catch(() => Buffer.alloc(0));
      res.end("ok");
    });
    const got = await withAgent(function* (agent) {
      let caught: unknown;
      try {
        yield* fetch(server!.url, {
          agent, method: "POST",
          body: function* (write) {
            yield* write("part");
            yield* sleep(5);
            throw new Error("source broke");
          },
        });
      } catch (e) {
        caught = e;
      }
      const next = yield* fetch(server!.url, { agent });
      return [(caught as Error).message, yield* next.text(), server!.connections];
    });
    expect(got).toEqual(["source broke", "ok", 2]);
  });
});

describe("early answers", () => {
  it("a request that times out while its streamed body goes out stops the body at once", async () => {
    let received = 0;
    server = await nodeServer((req) => req.on("data", (d: Buffer) => (received += d.length))); // never answers
    const t0 = performance.now();
    const got = await withAgent(function* (agent) {
      try {
        yield* fetch(server!.url, {
          agent, method: "POST", timeoutMs: 200,
          body: function* (write) {
            for (let i = 0; i < 30; i++) {
              yield* write(`part ${i}\n`);
              yield* sleep(100);
            }
          },
        });
        return "answered";
      } catch (e) {
        return (e as Error).name;
      }
    });
    expect(got).toBe("ResponseTimeoutError");
    expect(performance.now() - t0).toBeLessThan(1500); // the 30-part body takes 3 s
    const atTimeout = received;
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toBe(atTimeout); // nothing more was sent
  });

  it("a request pipelined behind a body cut short by an early answer goes on a fresh connection", async () => {
    server = await nodeServer((req, res) => {
      if (req.url === "/upload") return void res.writeHead(413, { "content-length": "2" }).end("no");
      req.resume();
      res.end(`ok ${req.url}`);
    });
    const got = await withAgent(function* (agent) {
      const upload = yield* spawn(function* () {
        const r = yield* fetch(`${server!.url}/upload`, {
          agent, method: "POST",
          body: function* (write) {
            for (let i = 0; i < 20; i++) {
              yield* write(Buffer.alloc(16 * 1024, 97));
              yield* sleep(20);
            }
          },
        });
        return `${r.status} ${yield* r.text()}`;
      });
      yield* sleep(5);
      const next = yield* fetch(`${server!.url}/next`, { agent });
      return [yield* join(upload), `${next.status} ${yield* next.text()}`];
    }, { pipeline: 2, connectionsPerOrigin: 1 });
    expect(got).toEqual(["413 no", "200 ok /next"]);
  });

  it("stops sending a body when the response comes first, and returns it (server stops reading, or closes)", async () => {
    for (const thenClose of [false, true]) {
      server = await rawServer((socket) => {
        socket.once("data", () => {
          socket.write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig");
          if (thenClose) socket.end();
          else socket.pause(); // reads no more: the client's body would block on backpressure
        });
      });
      const got = await withAgent(function* (agent) {
        const huge = Buffer.alloc(32 * 1024 * 1024, 120);
        const res = yield* fetch(server!.url, { agent, method: "POST", body: huge, timeoutMs: 5000 });
        return [res.status, yield* res.text()];
      });
      expect(got).toEqual([413, "big"]);
      await server.close();
      server = null;
    }
  });
});

describe("raw responses", () => {
  it("skips a 1xx whatever its fields say: an interim response has no content", async () => {
    server = await rawServer((socket) => {
      onRequests(socket, () => socket.write("HTTP/1.1 199 Misc\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    });
    const got = await withAgent(function* (agent) {
      const res = yield* fetch(server!.url, { agent });
      return [res.status, yield* res.text()];
    });
    expect(got).toEqual([200, "ok"]);
  });

  it("never reads bytes nobody asked for as the next response: such a connection is not reused", async () => {
    server = await rawServer((socket) => {
      onRequests(socket, (head) => {
        const path = head.split(" ")[1]!;
        if (head.startsWith("HEAD")) {
          socket.write("HTTP/1.1 200 OK\r\nContent-Length: 26\r\n\r\n");
          // A bogus body, later: answers no request.
          setTimeout(() => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL"), 30);
        } else if (path === "/trailing") socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokH");
        else socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`);
      });
    });
    const got = await withAgent(function* (agent) {
      const out: unknown[] = [];
      const head = yield* fetch(server!.url, { agent, method: "HEAD" });
      out.push(head.status);
      yield* sleep(100);
      for (const path of ["/one", "/trailing", "/two"]) out.push(yield* (yield* fetch(`${server!.url}${path}`, { agent })).text());
      return out;
    });
    expect(got).toEqual([200, "/one", "ok", "/two"]);
  });

  it("fails a 101 Switching Protocols with HTTP_ERR_PARSE: this client never asks to switch, and what follows is not HTTP", async () => {
    server = await rawServer((socket) => {
      onRequests(socket, () => socket.write("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: other\r\n\r\n\x00\x01binary"));
    });
    const got = await withAgent(function* (agent) {
      try {
        const res = yield* fetch(server!.url, { agent, timeoutMs: 2000 });
        return `answered ${res.status}`;
      } catch (e) {
        return (e as { code?: string }).code;
      }
    });
    expect(got).toBe("HTTP_ERR_PARSE");
  });

  it("returns the 101 that answers the caller's own Upgrade request; the connection is not reused", async () => {
    let connections = 0;
    server = await rawServer((socket) => {
      connections++;
      onRequests(socket, (head) => {
        if (head.includes("upgrade: websocket")) socket.write("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x00");
        else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      });
    });
    const got = await withAgent(function* (agent) {
      const res = yield* fetch(server!.url, { agent, headers: { connection: "Upgrade", upgrade: "websocket" }, timeoutMs: 2000 });
      const after = yield* fetch(server!.url, { agent, timeoutMs: 2000 });
      return [res.status, res.headers.get("upgrade"), after.status, yield* after.text()];
    });
    expect(got).toEqual([101, "websocket", 200, "ok"]);
    expect(connections).toBe(2);
  });

  it("sends an Upgrade request on a connection of its own: a request made at the same time is not pipelined into the new protocol", async () => {
    server = await rawServer((socket) => {
      onRequests(socket, (head) => {
        if (head.includes("upgrade: other")) socket.write("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: other\r\n\r\n");
        else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      });
    });
    const got = await run(function* () {
      const agent = new Agent({ pipeline: 2, connectionsPerOrigin: 1 });
      try {
        const up = yield* spawn(fetch(server!.url, { agent, headers: { connection: "Upgrade", upgrade: "other" }, timeoutMs: 2000 }));
        const plain = yield* spawn(function* () {
          const res = yield* fetch(server!.url, { agent, timeoutMs: 2000 });
          return `${res.status} ${yield* res.text()}`;
        });
        return [(yield* join(up)).status, yield* join(plain)];
      } finally {
        agent.close();
      }
    });
    // Before: the GET was written behind the Upgrade request and timed out after the 101.
    expect(got).toEqual([101, "200 ok"]);
  });

  it("refuses to read a whole body twice with HTTP_ERR_BODY_UNAVAILABLE; read() at the end stays empty", async () => {
    server = await nodeServer((_req, res) => res.end("once"));
    const got = await withAgent(function* (agent) {
      const res = yield* fetch(server!.url, { agent });
      const out: unknown[] = [yield* res.text(), (yield* res.read()).length];
      try {
        out.push(yield* res.text());
      } catch (e) {
        out.push((e as { code?: string }).code);
      }
      return out;
    });
    expect(got).toEqual(["once", 0, "HTTP_ERR_BODY_UNAVAILABLE"]);
  });

  it("skips 1xx interim responses and reads a body delimited by close", async () => {
    server = await rawServer((socket) => {
      onRequests(socket, () => {
        socket.write("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.0 200 OK\r\n\r\nuntil");
        socket.end(" close");
      });
    });
    const got = await withAgent(function* (agent) {
      const res = yield* fetch(server!.url, { agent });
      return [res.status, res.httpVersion, yield* res.text()];
    });
    expect(got).toEqual([200, "1.0", "until close"]);
  });
});
