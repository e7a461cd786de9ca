/**
 * The hub: topics, fan-out framed once to 1,000 subscribers, and the
 * slow-consumer policies with a real slow peer (a socket that stopped
 * reading, its kernel buffers full).
 */
import { sleep } from "@skein/core";
import { afterEach, describe, expect, it } from "vitest";
import { Hub, websocket, type WebSocket } from "@skein/websocket";
import { Sender } from "../src/ws-internals.js";
import { startHost, type Host } from "./support/host.js";
import { frame, openClient, RawPeer, until, type Inbox } from "./support/peers.js";

let h: Host | null = null;
const clients: Inbox[] = [];
/** Drops every client and stops the host (between the rounds of a test, and after each test). */
async function stopAll(): Promise<void> {
  for (const c of clients.splice(0)) c.ws.terminate();
  await h?.stop();
  h = null;
}
afterEach(stopAll);

/** A server whose sockets subscribe to "all" (and to ?topic=…), reachable by ?id=… */
async function hubServer(hub: Hub): Promise<{ host: Host; byId: Map<string, WebSocket> }> {
  const byId = new Map<string, WebSocket>();
  h = await startHost(
    websocket(
      function* (ws, req) {
        byId.set(req.searchParams.get("id") ?? "", ws);
        hub.subscribe(ws, "all");
        const topic = req.searchParams.get("topic");
        if (topic !== null) hub.subscribe(ws, topic);
        for (;;) {
          const msg = yield* ws.recv();
          if (msg === null) return;
          hub.publish("all", msg.data, { binary: msg.binary, except: ws });
        }
      },
      { pingIntervalMs: 0 },
    ),
  );
  return { host: h, byId };
}

/** Counts the writes that reach the socket of `ws` from now on. */
function countWrites(ws: WebSocket): () => number {
  const sock = ws.raw._socket as unknown as { _write: Function; _writev: Function };
  let writes = 0;
  const w = sock._write.bind(sock);
  const wv = sock._writev.bind(sock);
  sock._write = (...args: unknown[]) => (writes++, w(...args));
  sock._writev = (...args: unknown[]) => (writes++, wv(...args));
  return () => writes;
}

async function subscribers(host: Host, n: number): Promise<Inbox[]> {
  const out: Inbox[] = [];
  for (let i = 0; i < n; i += 250) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(250, n - i) }, (_, j) => openClient(`${host.url}/?id=c${i + j}`)))));
  }
  clients.push(...out);
  return out;
}

/** Fills the kernel buffers toward `peer` (which is not reading) and more, by plain ws sends. */
async function stall(host: Host, ws: WebSocket, atLeastBuffered: number): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  await host.exec(function* () {
    while (ws.bufferedAmount <= atLeastBuffered) {
      ws.raw.send(chunk);
      yield* sleep(1);
    }
  });
}

describe("Hub", () => {
  it("fans a message out to 1,000 subscribers, framing it once", async () => {
    const hub = new Hub();
    const { host } = await hubServer(hub);
    const subs = await subscribers(host, 1000);
    await until(() => hub.subscribers("all") === 1000);
    const frame = Sender.frame;
    let framed = 0;
    Sender.frame = (data, options) => (framed++, frame(data, options));
    let written: number[] = [];
    try {
      written = await host.exec(function* () {
        return [hub.publish("all", "to everyone"), hub.publish("all", Buffer.from([1, 2, 3]))];
      });
    } finally {
      Sender.frame = frame;
    }
    expect(written).toEqual([1000, 1000]);
    expect(framed).toBe(2);
    for (const c of subs) {
      const text = await c.next();
      expect([text.data.toString(), text.binary]).toEqual(["to everyone", false]);
      const bin = await c.next();
      expect([[...bin.data], bin.binary]).toEqual([[1, 2, 3], true]);
    }
  }, 60_000);

  it("relays a message to the other subscribers but not its sender (except)", async () => {
    const hub = new Hub();
    const { host } = await hubServer(hub);
    const [a, b, c] = await subscribers(host, 3);
    await until(() => hub.subscribers("all") === 3);
    a!.ws.send("from a");
    expect((await b!.next()).data.toString()).toBe("from a");
    expect((await c!.next()).data.toString()).toBe("from a");
    await new Promise((r) => setTimeout(r, 20));
    expect(a!.messages).toHaveLength(0);
  });

  it("a closed socket leaves every topic; unsubscribe leaves one", async () => {
    const hub = new Hub();
    const { host, byId } = await hubServer(hub);
    const a = await openClient(`${host.url}/?id=a&topic=news`);
    const b = await openClient(`${host.url}/?id=b&topic=news`);
    clients.push(a, b);
    await until(() => hub.subscribers("news") === 2);
    expect(hub.topicsOf(byId.get("a")!).sort()).toEqual(["all", "news"]);
    hub.unsubscribe(byId.get("b")!, "news");
    expect(hub.subscribers("news")).toBe(1);
    expect(hub.topicsOf(byId.get("b")!)).toEqual(["all"]);
    a.ws.close();
    await until(() => hub.subscribers("news") === 0 && hub.subscribers("all") === 1);
    expect(hub.topicsOf(byId.get("a")!)).toEqual([]);
    expect(await host.exec(function* () { return hub.publish("news", "anyone?"); })).toBe(0);
  });

  it("writes a burst of publishes to each subscriber in one write", async () => {
    const hub = new Hub();
    const { host, byId } = await hubServer(hub);
    const a = await openClient(`${host.url}/?id=a`);
    clients.push(a);
    await until(() => hub.subscribers("all") === 1);
    const writes = countWrites(byId.get("a")!);
    await host.exec(function* () {
      for (let i = 0; i < 50; i++) hub.publish("all", `burst ${i}`);
    });
    for (let i = 0; i < 50; i++) expect((await a.next()).data.toString()).toBe(`burst ${i}`);
    expect(writes()).toBe(1);
  });

  it("messages that arrive in one read are relayed to each subscriber in one write", async () => {
    const hub = new Hub();
    const { host, byId } = await hubServer(hub);
    const subs = await subscribers(host, 3);
    const publisher = await RawPeer.open(host.port, "/?id=pub");
    await until(() => hub.subscribers("all") === 4);
    const counts = subs.map((_, i) => countWrites(byId.get(`c${i}`)!));
    publisher.write(Array.from({ length: 10 }, (_, i) => frame(0x1, `relay ${i}`)));
    for (const c of subs) for (let i = 0; i < 10; i++) expect((await c.next()).data.toString()).toBe(`relay ${i}`);
    expect(counts.map((c) => c())).toEqual([1, 1, 1]);
    publisher.destroy();
  });

  describe("a slow consumer among 1,000 subscribers", () => {
    /**
     * 999 subscribers that read and one that does not, stalled until its
     * outbound buffer is full; `publishTicks` then publishes 100 messages.
     */
    async function withSlowSubscriber(slowConsumer: "close" | "drop") {
      const hub = new Hub({ maxBufferedBytes: 256 * 1024, slowConsumer });
      const { host, byId } = await hubServer(hub);
      const fast = await subscribers(host, 999);
      const slow = await RawPeer.open(host.port, "/?id=slow");
      slow.socket.pause();
      await until(() => hub.subscribers("all") === 1000);
      const slowWs = byId.get("slow")!;
      await stall(host, slowWs, 256 * 1024);
      const publishTicks = () => host.exec(function* () {
        for (let i = 0; i < 100; i++) hub.publish("all", `tick ${i}`);
      });
      return { hub, host, fast, slow, slowWs, publishTicks };
    }

    it('policy "close": it is closed with 1008, everyone else gets every message', async () => {
      const { hub, fast, slow, slowWs, publishTicks } = await withSlowSubscriber("close");
      await publishTicks();
      expect(hub.closedSlow).toBe(1);
      expect(slowWs.isOpen).toBe(false);
      for (const c of fast) for (let i = 0; i < 100; i++) expect((await c.next()).data.toString()).toBe(`tick ${i}`);
      slow.socket.resume();
      expect((await slow.closeFrame(20_000)).code).toBe(1008);
      expect(slow.frames.some((f) => f.payload.toString().startsWith("tick"))).toBe(false);
      expect(slowWs.error?.code).toBe("WS_ERR_SLOW_CONSUMER");
      slow.destroy();
    }, 60_000);

    it('policy "drop": its messages are dropped while it is behind, and it gets new ones once it catches up', async () => {
      const { hub, host, fast, slow, slowWs, publishTicks } = await withSlowSubscriber("drop");
      const maxBuffered = slowWs.bufferedAmount;
      await publishTicks();
      expect(hub.dropped).toBe(100);
      expect(slowWs.bufferedAmount).toBe(maxBuffered); // bounded: nothing was added
      for (const c of fast) for (let i = 0; i < 100; i++) expect((await c.next()).data.toString()).toBe(`tick ${i}`);
      slow.socket.resume();
      await until(() => slowWs.bufferedAmount === 0, 20_000, "the slow peer to catch up");
      await host.exec(function* () {
        hub.publish("all", "caught up");
      });
      await until(() => slow.frames.some((f) => f.payload.toString() === "caught up"), 5000, "the next message");
      expect(slow.frames.some((f) => f.payload.toString().startsWith("tick"))).toBe(false);
      expect(slowWs.isOpen).toBe(true);
      slow.destroy();
    }, 60_000);
  });

  it("a burst that one read or one handler step publishes is not a slow consumer's backlog (healthy readers get it all)", async () => {
    for (const slowConsumer of ["close", "drop"] as const) {
      const hub = new Hub({ maxBufferedBytes: 16 * 1024, slowConsumer });
      h = await startHost(websocket(function* (ws) {
        hub.subscribe(ws, "room");
        for (let msg; (msg = yield* ws.recv()) !== null; ) {
          if (msg.text === "burst") for (let i = 0; i < 24; i++) hub.publish("room", Buffer.alloc(4096, 0x61)); // 96 KiB in one step
          else hub.publish("room", msg.data, { binary: msg.binary, except: ws });
        }
      }, { pingIntervalMs: 0 }));
      const readers = await Promise.all(Array.from({ length: 5 }, () => openClient(h!.url)));
      clients.push(...readers);
      const publisher = await RawPeer.open(h.port);
      await until(() => hub.subscribers("room") === 6);
      publisher.write(Array.from({ length: 40 }, () => frame(1, "x".repeat(1024)))); // 40 KiB in one read
      readers[0]!.ws.send("burst");
      await until(() => readers.every((r) => r.messages.length === 40 + 24 || r.closed !== null), 5000, "every message at every reader");
      expect([readers.map((r) => r.closed?.code ?? null), hub.closedSlow, hub.dropped]).toEqual([Array(5).fill(null), 0, 0]);
      publisher.destroy();
      await stopAll();
    }
  });

  it("still bounds what one step publishes to a subscriber that does not read (its burst allowance)", async () => {
    for (const slowConsumer of ["close", "drop"] as const) {
      const hub = new Hub({ maxBufferedBytes: 64 * 1024, slowConsumer });
      h = await startHost(websocket(function* (ws) {
        hub.subscribe(ws, "room");
        for (let msg; (msg = yield* ws.recv()) !== null; ) {
          if (msg.text === "flood") for (let i = 0; i < 2048; i++) hub.publish("room", Buffer.alloc(16 * 1024, 0x61), { except: ws }); // 32 MiB in one step
        }
      }, { pingIntervalMs: 0 }));
      const sleeper = await RawPeer.open(h.port); // never reads
      sleeper.socket.pause();
      const trigger = await openClient(h.url);
      clients.push(trigger);
      await until(() => hub.subscribers("room") === 2);
      trigger.ws.send("flood");
      await until(() => hub.dropped > 0 || hub.closedSlow > 0, 5000, "the bound to apply");
      // 64 KiB + the 1 MiB burst allowance, plus one message: far from 32 MiB.
      expect(slowConsumer === "drop" ? hub.dropped : hub.closedSlow).toBeGreaterThan(0);
      sleeper.destroy();
      await stopAll();
    }
  });

  it("validates its options", () => {
    expect(() => new Hub({ maxBufferedBytes: -1 })).toThrow(RangeError);
    expect(() => new Hub({ slowConsumer: "ignore" as "drop" })).toThrow(RangeError);
  });
});

describe("publish to permessage-deflate subscribers", () => {
  it("sends what the buffer held at publish: the publisher may refill it at once", async () => {
    const hub = new Hub();
    const h = await startHost(websocket(function* (ws) {
      hub.subscribe(ws, "t");
      const buf = Buffer.alloc(1000);
      for (let i = 0; i < 5; i++) {
        buf.fill(0x30 + i);
        hub.publish("t", buf);
      }
      while ((yield* ws.recv()) !== null);
    }, { pingIntervalMs: 0, perMessageDeflate: true }));
    const c = await openClient(h.url, { perMessageDeflate: true });
    const got: string[] = [];
    for (let i = 0; i < 5; i++) got.push(String.fromCharCode((await c.next()).data[0]!));
    // Before: ws compressed the publisher's buffer later, after it was refilled: "4 4 4 4 4".
    expect(got).toEqual(["0", "1", "2", "3", "4"]);
    c.ws.close();
    await h.stop();
  });
});
