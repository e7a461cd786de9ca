/**
 * The client: `connect(url)` against Skein's server and a plain `ws`
 * server, handshake failures as typed errors, cancellation, and the same
 * recv/send/close as the server side.
 */
import net from "node:net";
import { cancel, run, sleep, spawn, timeout, TimeoutError } from "@skein/core";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { connect, websocket, WebSocketError, type Message } from "@skein/websocket";
import { startHost, type Host } from "./support/host.js";
import { until } from "./support/peers.js";

let h: Host | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

const echo = websocket(function* (ws) {
  for (;;) {
    const msg = yield* ws.recv();
    if (msg === null) return;
    if (msg.text === "close please") return yield* ws.close(4002, "as you wish");
    yield* ws.send(msg.data, { binary: msg.binary });
  }
});

describe("connect", () => {
  it("talks to Skein's server: send, recv, close", async () => {
    h = await startHost(echo);
    const url = h.url;
    const out = await run(function* () {
      const ws = yield* connect(url);
      yield* ws.send("hello");
      yield* ws.send(Buffer.from([9, 8, 7]));
      const a = (yield* ws.recv())!;
      const b = (yield* ws.recv())!;
      yield* ws.close(1000, "bye");
      return [a.text, a.binary, [...b.data], b.binary, ws.closeCode, ws.isClosed, yield* ws.recv()];
    });
    expect(out).toEqual(["hello", false, [9, 8, 7], true, 1000, true, null]);
  });

  it("masks a copy: the caller's buffer is left as it was", async () => {
    h = await startHost(echo);
    const url = h.url;
    const data = Buffer.from("do not scribble on me");
    const echoed = await run(function* () {
      const ws = yield* connect(url);
      yield* ws.send(data);
      const msg = yield* ws.recv();
      yield* ws.close();
      return msg!.data.toString();
    });
    expect(data.toString()).toBe("do not scribble on me");
    expect(echoed).toBe("do not scribble on me");
  });

  it("talks to a plain ws server", async () => {
    const wss = new WebSocketServer({ port: 0 });
    await new Promise((r) => wss.once("listening", r));
    wss.on("connection", (ws) => ws.on("message", (m, binary) => ws.send(m, { binary })));
    const port = (wss.address() as net.AddressInfo).port;
    try {
      const text = await run(function* () {
        const ws = yield* connect(`ws://127.0.0.1:${port}/`);
        yield* ws.send("plain ws");
        const msg = yield* ws.recv();
        yield* ws.close();
        return msg!.text;
      });
      expect(text).toBe("plain ws");
    } finally {
      await new Promise((r) => wss.close(r));
      for (const c of wss.clients) c.terminate();
    }
  });

  it("recv returns null with the server's close code when the server closes", async () => {
    h = await startHost(echo);
    const url = h.url;
    const out = await run(function* () {
      const ws = yield* connect(url);
      yield* ws.send("close please");
      return [yield* ws.recv(), ws.closeCode, ws.closeReason, ws.error];
    });
    expect(out).toEqual([null, 4002, "as you wish", null]);
  });

  it("offers subprotocols and reports the server's pick", async () => {
    h = await startHost(websocket(function* () {}, { protocols: ["b", "a"] }));
    const url = h.url;
    const protocol = await run(function* () {
      const ws = yield* connect(url, { protocols: ["a", "b"] });
      const p = ws.protocol;
      yield* ws.close();
      return p;
    });
    expect(protocol).toBe("b");
  });

  it("throws WS_ERR_HANDSHAKE with the status when the server refuses", async () => {
    h = await startHost(websocket(function* () {}, { origins: ["https://only.example"] }));
    const url = h.url;
    const err = await run(function* () {
      try {
        yield* connect(url, { origin: "https://other.example" });
      } catch (e) {
        return e;
      }
    });
    expect(err).toBeInstanceOf(WebSocketError);
    expect(err).toMatchObject({ code: "WS_ERR_HANDSHAKE", status: 403 });
  });

  it("throws WS_ERR_HANDSHAKE when nothing listens", async () => {
    const port = await freePort();
    const err = await run(function* () {
      try {
        yield* connect(`ws://127.0.0.1:${port}/`);
      } catch (e) {
        return e;
      }
    });
    expect(err).toMatchObject({ code: "WS_ERR_HANDSHAKE" });
  });

  it("cancelling connect (here by a timeout) abandons the attempt and closes its socket", async () => {
    const silent = net.createServer();
    let closed = 0;
    silent.on("connection", (s) => s.resume().on("close", () => closed++));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const err = await run(function* () {
        try {
          yield* timeout(50, connect(`ws://127.0.0.1:${port}/`));
        } catch (e) {
          return e;
        }
      });
      expect(err).toBeInstanceOf(TimeoutError);
      await until(() => closed === 1);
    } finally {
      silent.close();
    }
  });

  it("handshakeTimeoutMs bounds the whole handshake: a server trickling its answer a byte at a time still times out", async () => {
    const trickler = net.createServer((socket) => {
      socket.resume();
      const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Pad: " + "a".repeat(10_000);
      let i = 0;
      const timer = setInterval(() => (i < head.length && !socket.destroyed ? socket.write(head[i++]!) : clearInterval(timer)), 100);
      socket.on("close", () => clearInterval(timer));
    });
    await new Promise<void>((r) => trickler.listen(0, "127.0.0.1", r));
    const port = (trickler.address() as net.AddressInfo).port;
    try {
      const t0 = performance.now();
      const err = await run(function* () {
        try {
          yield* connect(`ws://127.0.0.1:${port}/`, { handshakeTimeoutMs: 500 });
        } catch (e) {
          return e;
        }
      });
      expect(err).toMatchObject({ code: "WS_ERR_HANDSHAKE" });
      expect((err as Error).message).toContain("took longer than 500 ms");
      expect(performance.now() - t0).toBeLessThan(3000); // an idle timeout never fires: a byte comes every 100 ms
    } finally {
      trickler.close();
    }
  });

  it("recv on a client is bounded and resumes like the server's (maxQueuedMessages)", async () => {
    h = await startHost(
      websocket(function* (ws) {
        for (let i = 0; i < 5000; i++) yield* ws.send(`n${i}`);
        yield* ws.recv();
      }),
    );
    const url = h.url;
    const out = await run(function* () {
      const ws = yield* connect(url, { maxQueuedMessages: 8 });
      yield* sleep(100);
      const pausedWhileIdle = ws.readPaused;
      const queued = ws.queuedMessages;
      let ok = true;
      for (let i = 0; i < 5000; i++) if ((yield* ws.recv())!.text !== `n${i}`) ok = false;
      yield* ws.close();
      return { pausedWhileIdle, queued, ok };
    });
    expect(out.pausedWhileIdle).toBe(true);
    expect(out.queued).toBeLessThan(5000);
    expect(out.ok).toBe(true);
  });

  it("a client heartbeat keeps pinging a live server", async () => {
    h = await startHost(echo);
    const url = h.url;
    const alive = await run(function* () {
      const ws = yield* connect(url, { pingIntervalMs: 10, pongTimeoutMs: 50 });
      yield* sleep(150);
      const open = ws.isOpen;
      yield* ws.close();
      return open;
    });
    expect(alive).toBe(true);
  });

  it("cancelling a task blocked in recv leaves the socket usable", async () => {
    h = await startHost(echo);
    const url = h.url;
    const text = await run(function* () {
      const ws = yield* connect(url);
      const reader = yield* spawn(ws.recv());
      yield* sleep(5);
      yield* cancel(reader);
      yield* ws.send("still works");
      const msg = yield* ws.recv();
      yield* ws.close();
      return msg!.text;
    });
    expect(text).toBe("still works");
  });
});

describe("async iteration", () => {
  it("for await yields messages until the socket closes", async () => {
    h = await startHost(
      websocket(function* (ws) {
        for (const word of ["one", "two", "three"]) yield* ws.send(word);
      }),
    );
    const url = h.url;
    const ws = await run(function* () {
      return yield* connect(url);
    });
    const got: string[] = [];
    for await (const msg of ws as AsyncIterable<Message>) got.push(msg.text);
    expect(got).toEqual(["one", "two", "three"]);
    expect(ws.closeCode).toBe(1000);
  });
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
