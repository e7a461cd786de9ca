import { run, spawn, cancel, sleep } from "@skein/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { HttpParseError } from "../../src/errors.js";
import { Agent, ConnectFailedError, fetch, ResponseResetError, ResponseTimeoutError, type RequestInit } from "../../src/client/index.js";
import { closedPort, nodeHttpsServer, onRequests, rawServer, selfSignedCert, type TestServer } from "./servers.js";

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** Runs one fetch and reads its body; returns the error it threw. */
function failure(url: string, init: RequestInit = {}): Promise<unknown> {
  return run(function* () {
    const agent = new Agent();
    try {
      const res = yield* fetch(url, { agent, ...init });
      yield* res.text();
      return new Error("no error");
    } catch (e) {
      return e;
    } finally {
      agent.close();
    }
  });
}

describe("typed errors", () => {
  it("connection refused is a ConnectFailedError with the system code", async () => {
    const port = await closedPort();
    const e = await failure(`http://127.0.0.1:${port}/`);
    expect(e).toBeInstanceOf(ConnectFailedError);
    expect([(e as ConnectFailedError).code, (e as ConnectFailedError).syscallCode, (e as ConnectFailedError).origin])
      .toEqual(["HTTP_ERR_CONNECT_FAILED", "ECONNREFUSED", `http://127.0.0.1:${port}`]);
  });

  it("a reset in the middle of the body is a ResponseResetError with responseStarted", async () => {
    server = await rawServer((socket) => {
      onRequests(socket, () => {
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
        setTimeout(() => socket.resetAndDestroy(), 10);
      });
    });
    const e = await failure(server.url);
    expect(e).toBeInstanceOf(ResponseResetError);
    expect([(e as ResponseResetError).code, (e as ResponseResetError).responseStarted, (e as ResponseResetError).syscallCode])
      .toEqual(["HTTP_ERR_RESPONSE_RESET", true, "ECONNRESET"]);
  });

  it("a close before any response byte is a ResponseResetError without responseStarted", async () => {
    server = await rawServer((socket) => onRequests(socket, () => socket.end()));
    const e = await failure(server.url);
    expect(e).toBeInstanceOf(ResponseResetError);
    expect((e as ResponseResetError).responseStarted).toBe(false);
  });

  it("a close in the middle of a Content-Length body is a ResponseResetError", async () => {
    server = await rawServer((socket) => onRequests(socket, () => socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")));
    const e = await failure(server.url);
    expect(e).toBeInstanceOf(ResponseResetError);
    expect((e as ResponseResetError).responseStarted).toBe(true);
  });

  it("a malformed response is llhttp's HttpParseError with its reason", async () => {
    server = await rawServer((socket) => onRequests(socket, () => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n")));
    const e = await failure(server.url);
    expect(e).toBeInstanceOf(HttpParseError);
    expect([(e as HttpParseError).code, (e as HttpParseError).llhttpError]).toEqual(["HTTP_ERR_PARSE", "HPE_INVALID_CONTENT_LENGTH"]);
    expect((e as HttpParseError).reason).not.toBe("");
  });

  it("garbage instead of a status line is an HttpParseError", async () => {
    server = await rawServer((socket) => onRequests(socket, () => socket.write("SSH-2.0-OpenSSH\r\n\r\n")));
    const e = await failure(server.url);
    expect(e).toBeInstanceOf(HttpParseError);
  });
});

describe("timeouts", () => {
  it("head: the server never answers", async () => {
    server = await rawServer(() => {});
    const e = await failure(server.url, { headersTimeoutMs: 30 });
    expect(e).toBeInstanceOf(ResponseTimeoutError);
    expect([(e as ResponseTimeoutError).code, (e as ResponseTimeoutError).phase, (e as ResponseTimeoutError).timeoutMs]).toEqual(["HTTP_ERR_RESPONSE_TIMEOUT", "head", 30]);
  });

  it("body: the server stalls after the head, and the connection is discarded", async () => {
    const sockets: import("node:net").Socket[] = [];
    server = await rawServer((socket) => {
      sockets.push(socket);
      onRequests(socket, () => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
    });
    const e = await failure(server.url, { bodyTimeoutMs: 30 });
    expect(e).toBeInstanceOf(ResponseTimeoutError);
    expect((e as ResponseTimeoutError).phase).toBe("body");
    await new Promise<void>((resolve) => (sockets[0]!.destroyed ? resolve() : sockets[0]!.on("close", () => resolve())));
  });

  it("request: the overall deadline is tighter than the phase limits", async () => {
    server = await rawServer(() => {});
    const e = await failure(server.url, { timeoutMs: 30, headersTimeoutMs: 10_000 });
    expect([(e as ResponseTimeoutError).phase, (e as ResponseTimeoutError).timeoutMs]).toEqual(["request", 30]);
  });

  it("connect: a TLS handshake that never completes", async () => {
    server = await rawServer(() => {}); // accepts TCP, never speaks TLS
    const e = await failure(`https://127.0.0.1:${server.port}/`, { connectTimeoutMs: 30 });
    expect(e).toBeInstanceOf(ResponseTimeoutError);
    expect((e as ResponseTimeoutError).phase).toBe("connect");
  });

  it("a timed-out request does not poison the pool: the next one gets a fresh connection", async () => {
    server = await rawServer((socket) => {
      onRequests(socket, (head) => {
        if (head.startsWith("GET /ok")) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      });
    });
    const got = await run(function* () {
      const agent = new Agent({ connectionsPerOrigin: 1 });
      let phase = "";
      try {
        yield* fetch(`${server!.url}/hang`, { agent, headersTimeoutMs: 20 });
      } catch (e) {
        phase = (e as ResponseTimeoutError).phase;
      }
      const text = yield* (yield* fetch(`${server!.url}/ok`, { agent })).text();
      agent.close();
      return [phase, text];
    });
    expect(got).toEqual(["head", "ok"]);
    expect(server.connections).toBe(2);
  });

  it("an outer cancel of the caller is not reported as a client timeout", async () => {
    server = await rawServer(() => {});
    const outcome = await run(function* () {
      const agent = new Agent();
      const t = yield* spawn(fetch(server!.url, { agent, headersTimeoutMs: 10_000 }));
      yield* sleep(10);
      yield* cancel(t);
      agent.close();
      return t.isCancelled;
    });
    expect(outcome).toBe(true);
  });
});

describe("TLS", () => {
  let key = "";
  let cert = "";
  beforeAll(() => {
    ({ key, cert } = selfSignedCert());
  });

  it("fetches over https with the agent's CA and reuses the TLS connection", async () => {
    server = await nodeHttpsServer(key, cert, (req, res) => res.end(`secure ${req.url}`));
    const got = await run(function* () {
      const agent = new Agent({ tls: { ca: cert } });
      const a = yield* (yield* fetch(`https://127.0.0.1:${server!.port}/a`, { agent })).text();
      const b = yield* (yield* fetch(`https://localhost:${server!.port}/b`, { agent })).text();
      const c = yield* (yield* fetch(`https://127.0.0.1:${server!.port}/c`, { agent })).text();
      agent.close();
      return [a, b, c];
    });
    expect(got).toEqual(["secure /a", "secure /b", "secure /c"]);
    expect(server.connections).toBe(2); // one per origin (127.0.0.1 and localhost)
  });

  it("a timed-out https request discards its TLS connection", async () => {
    server = await nodeHttpsServer(key, cert, () => {}); // never answers
    const agent = new Agent({ tls: { ca: cert } });
    const e = await failure(`https://127.0.0.1:${server.port}/`, { agent, headersTimeoutMs: 50 });
    expect(e).toBeInstanceOf(ResponseTimeoutError);
    expect((e as ResponseTimeoutError).phase).toBe("head");
  });

  it("rejects a certificate it cannot verify as a connect failure", async () => {
    server = await nodeHttpsServer(key, cert, (_req, res) => res.end("x"));
    const e = await failure(`https://127.0.0.1:${server.port}/`);
    expect(e).toBeInstanceOf(ConnectFailedError);
  });
});
