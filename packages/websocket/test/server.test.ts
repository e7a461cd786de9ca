/**
 * `websocket()` as an @skein/http app, over the wire: handshake answers,
 * subprotocols, compression, graceful shutdown, and 2,000 connections at once.
 */
import { createServer as createNetServer } from "node:net";
import { connect, sleep, spawn } from "@skein/core";
import { describe, expect, it } from "vitest";
import { websocket, type WebSocketApp } from "@skein/websocket";
import { startHost, useHosts } from "./support/host.js";
import { openClient, RawPeer, until } from "./support/peers.js";

const host = useHosts();

function echoApp(options = {}): WebSocketApp {
  return websocket(function* (ws) {
    for (;;) {
      const msg = yield* ws.recv();
      if (msg === null) return;
      yield* ws.send(msg.data, { binary: msg.binary });
    }
  }, options);
}

async function plainGet(port: number, path = "/"): Promise<string> {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    let out = "";
    s.on("data", (d) => (out += d.toString("latin1")));
    s.on("end", () => resolve(out));
    s.on("error", reject);
    s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  });
}

describe("handshake over the wire", () => {
  it("answers a plain GET with 426 Upgrade: websocket and closes the connection", async () => {
    const h = await host(echoApp());
    const response = await plainGet(h.port);
    expect(response).toMatch(/^HTTP\/1\.1 426 /);
    expect(response).toMatch(/\r\nupgrade: websocket\r\n/i);
    expect(response).toMatch(/\r\nconnection: close\r\n/i);
  });

  it("answers a bad key with 400 and closes", async () => {
    const h = await host(echoApp());
    const peer = await RawPeer.open(h.port, "/", { "sec-websocket-key": "not-a-key" });
    expect(peer.status).toBe(400);
    await peer.endEvent();
  });

  it("answers another version with 426 and Sec-WebSocket-Version: 13", async () => {
    const h = await host(echoApp());
    const peer = await RawPeer.open(h.port, "/", { "sec-websocket-version": "8" });
    expect(peer.status).toBe(426);
    expect(peer.responseHead).toMatch(/\r\nsec-websocket-version: 13/i);
    await peer.endEvent();
  });

  it("answers a foreign origin with 403 and lets a listed one in", async () => {
    const h = await host(echoApp({ origins: ["https://good.example"] }));
    await expect(openClient(h.url, { origin: "https://evil.example" })).rejects.toThrow("status 403");
    const c = await openClient(h.url, { origin: "https://good.example" });
    c.ws.send("hi");
    expect((await c.next()).data.toString()).toBe("hi");
    c.ws.close();
  });

  it("answers with 101 and the Sec-WebSocket-Accept of the key (RFC 6455 §4.2.2)", async () => {
    const h = await host(echoApp());
    const peer = await RawPeer.open(h.port, "/", { "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" });
    expect(peer.status).toBe(101);
    expect(peer.responseHead).toMatch(/\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
    peer.destroy();
  });

  it("negotiates the server's preferred subprotocol among the client's", async () => {
    const protocols: string[] = [];
    const h = await host(
      websocket(
        function* (ws) {
          protocols.push(ws.protocol);
        },
        { protocols: ["chat.v2", "chat.v1"] },
      ),
    );
    const c = await openClient(h.url, { protocols: ["chat.v1", "chat.v2"] });
    expect(c.ws.protocol).toBe("chat.v2");
    await c.closeEvent();
    expect(protocols).toEqual(["chat.v2"]);
  });

  it("reads the first frame when it arrives in the same packet as the handshake", async () => {
    const h = await host(echoApp());
    const net = await import("node:net");
    const { frame, parseFrames } = await import("./support/peers.js");
    const s = net.connect({ port: h.port, host: "127.0.0.1" });
    let buf = Buffer.alloc(0);
    s.on("data", (d: Buffer) => (buf = Buffer.concat([buf, d])));
    await new Promise((r) => s.once("connect", r));
    s.write(
      Buffer.concat([
        Buffer.from("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"),
        frame(0x1, "early bird"),
      ]),
    );
    await until(() => {
      const end = buf.indexOf("\r\n\r\n");
      return end >= 0 && parseFrames(buf.subarray(end + 4)).frames.length === 1;
    });
    const end = buf.indexOf("\r\n\r\n");
    expect(parseFrames(buf.subarray(end + 4)).frames[0]!.payload.toString()).toBe("early bird");
    s.destroy();
  });
});

describe("routing", () => {
  it("mounts on an @skein/http Router path, with route parameters on req", async () => {
    const { Router } = await import("@skein/http");
    const rooms: string[] = [];
    const router = new Router().get(
      "/rooms/:room",
      websocket(function* (ws, req) {
        rooms.push(req.params.room!);
        yield* ws.send(`joined ${req.params.room}`);
      }),
    );
    const h = await host(router.app());
    const c = await openClient(`${h.url}/rooms/lobby`);
    expect((await c.next()).data.toString()).toBe("joined lobby");
    expect((await c.closeEvent()).code).toBe(1000);
    expect(rooms).toEqual(["lobby"]);
  });
});

describe("the request", () => {
  it("stays readable by a handler that takes it, long after the handshake freed its HTTP connection", async () => {
    const h = await host(
      websocket(function* (ws, req) {
        const msg = yield* ws.recv(); // the HTTP connection was handed off and ended meanwhile
        yield* ws.send(`${msg!.text} ${req.path} ${req.headers.get("x-room")} ${req.remoteAddress}`);
      }),
    );
    const c = await openClient(`${h.url}/chat`, { headers: { "x-room": "lobby" } });
    c.ws.send("hi");
    expect((await c.next()).data.toString()).toBe("hi /chat lobby 127.0.0.1");
    expect((await c.closeEvent()).code).toBe(1000);
  });
});

describe("permessage-deflate", () => {
  it("is off by default", async () => {
    const h = await host(echoApp());
    const c = await openClient(h.url, { perMessageDeflate: true });
    expect(c.ws.extensions).toBe("");
    c.ws.close();
  });

  it("is negotiated when enabled, and messages round-trip compressed", async () => {
    const h = await host(echoApp({ perMessageDeflate: true }));
    const c = await openClient(h.url, { perMessageDeflate: true });
    expect(c.ws.extensions).toBe("permessage-deflate");
    const text = "compress me ".repeat(1000);
    c.ws.send(text);
    expect((await c.next()).data.toString()).toBe(text);
    c.ws.close();
  });
});

describe("a peer that leaves", () => {
  it("is no error of the handler's: a task it spawned that was sending ends quietly, nothing is logged", async () => {
    const ended: string[] = [];
    const h = await startHost(
      websocket(function* (ws) {
        // One task sends while the handler reads: the usual shape of a chat or a feed.
        yield* spawn(function* () {
          for (;;) {
            yield* ws.send("tick");
            yield* sleep(2);
          }
        });
        try {
          while ((yield* ws.recv()) !== null);
        } finally {
          ended.push("handler");
        }
      }),
    );
    try {
      const c = await openClient(h.url);
      await c.next();
      c.ws.terminate(); // gone without a close frame
      await until(() => ended.length === 1);
      await new Promise((r) => setTimeout(r, 50));
      expect(h.logs.map((l) => l.message)).toEqual([]);
    } finally {
      await h.stop();
    }
  });
});

describe("a task the handler started that fails", () => {
  it("closes the peer with 1011, not 1001, and is logged", async () => {
    const h = await startHost(
      websocket(function* (ws) {
        yield* spawn(function* () {
          yield* sleep(20);
          throw new Error("worker broke");
        });
        while ((yield* ws.recv()) !== null);
      }),
    );
    try {
      const c = await openClient(h.url);
      // Before: "server shutting down" (1001), as if the server were stopping.
      expect((await c.closeEvent()).code).toBe(1011);
      await until(() => h.logs.length > 0, 2000, "the log line");
      expect(h.logs.map((l) => (l.error as Error).message)).toEqual(["worker broke"]);
    } finally {
      await h.stop();
    }
  });
});

describe("a backend that fails while the peer is here", () => {
  it("is the handler's failure: logged, and the peer gets 1011", async () => {
    const resetting = createNetServer((socket) => {
      socket.write("x");
      setTimeout(() => socket.resetAndDestroy(), 20);
    });
    await new Promise<void>((r) => resetting.listen(0, "127.0.0.1", r));
    const port = (resetting.address() as { port: number }).port;
    const h = await startHost(
      websocket(function* () {
        const backend = yield* connect({ host: "127.0.0.1", port });
        yield* backend.recv();
        yield* backend.recv(); // reset
      }),
    );
    try {
      const c = await openClient(h.url);
      // Before: taken for this peer leaving, closed 1000 and nothing logged.
      expect((await c.closeEvent()).code).toBe(1011);
      expect(h.logs.map((l) => (l.error as { code?: string })?.code)).toEqual(["SKEIN_ERR_CONN_RESET"]);
    } finally {
      await h.stop();
      resetting.close();
    }
  });
});

describe("graceful shutdown", () => {
  it("the HTTP server's close() sends 1001 to every WebSocket and waits for the handlers' finally blocks", async () => {
    const log: string[] = [];
    const h = await startHost(
      websocket(function* (ws) {
        try {
          for (;;) {
            const msg = yield* ws.recv();
            if (msg === null) break;
          }
          log.push(`recv null: ${ws.error?.code}`);
        } finally {
          yield* sleep(30); // cleanup that takes a while
          log.push("finally");
        }
      }),
      { graceMs: 5000 },
    );
    const clients = await Promise.all([openClient(h.url), openClient(h.url), openClient(h.url)]);
    h.server.close();
    for (const c of clients) expect(await c.closeEvent()).toEqual({ code: 1001, reason: "server shutting down" });
    await h.done;
    expect(log.filter((l) => l === "finally")).toHaveLength(3);
    expect(log.filter((l) => l === "recv null: WS_ERR_SHUTTING_DOWN")).toHaveLength(3);
  });

  it("drops, when the grace period is over, a peer that never answered the 1001", async () => {
    const h = await startHost(
      websocket(function* (ws) {
        while ((yield* ws.recv()) !== null);
      }),
      { graceMs: 300 },
    );
    const peer = await RawPeer.open(h.port, "/");
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    h.server.close();
    await until(() => peer.frames.some((f) => f.opcode === 8), 2000, "the 1001");
    await h.done;
    const took = Date.now() - t0;
    expect(peer.frames.find((f) => f.opcode === 8)!.payload.readUInt16BE(0)).toBe(1001);
    // Before: the session then waited closeTimeoutMs (5 s) afresh, from the end of the grace period.
    expect(took).toBeLessThan(2500);
    await until(() => peer.ended, 2000, "the drop");
    peer.destroy();
  });

  it("app.shutdown() closes this endpoint's sockets with 1001, refuses new ones with 503, and returns when handlers are done", async () => {
    const log: string[] = [];
    const app = websocket(function* (ws) {
      try {
        while ((yield* ws.recv()) !== null);
      } finally {
        log.push("finally");
      }
    });
    const h = await host(app);
    const a = await openClient(h.url);
    const b = await openClient(h.url);
    expect(app.connections.size).toBe(2);
    await h.exec(() => app.shutdown());
    expect(log).toEqual(["finally", "finally"]);
    expect(app.connections.size).toBe(0);
    expect((await a.closeEvent()).code).toBe(1001);
    expect((await b.closeEvent()).code).toBe(1001);
    await expect(openClient(h.url)).rejects.toThrow("status 503");
  });

  it("cancelling the server cancels handlers: finally runs and the peer gets 1001", async () => {
    const log: string[] = [];
    const h = await startHost(
      websocket(function* (ws) {
        try {
          yield* ws.recv();
        } finally {
          log.push("finally");
        }
      }),
    );
    const c = await openClient(h.url);
    await h.stop();
    expect(log).toEqual(["finally"]);
    expect((await c.closeEvent()).code).toBe(1001);
  });
});

describe("scale", () => {
  it("serves 2,000 concurrent connections", async () => {
    const h = await host(echoApp({ pingIntervalMs: 0 }));
    const N = 2000;
    const clients = [];
    for (let i = 0; i < N; i += 200) {
      clients.push(...(await Promise.all(Array.from({ length: Math.min(200, N - i) }, () => openClient(h.url)))));
    }
    expect(clients).toHaveLength(N);
    clients.forEach((c, i) => c.ws.send(`hello from ${i}`));
    const replies = await Promise.all(clients.map((c) => c.next(20_000)));
    replies.forEach((r, i) => expect(r.data.toString()).toBe(`hello from ${i}`));
    for (const c of clients) c.ws.close();
    await Promise.all(clients.map((c) => c.closeEvent(20_000)));
  }, 60_000);
});
