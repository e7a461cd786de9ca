/**
 * The demo's WebSocket contract through the real started process and the
 * `ws` client: /ws/echo echoes text as text and binary as binary; /ws/chat
 * broadcasts every text message to every client, the sender included, and
 * pushes figures to clients that ask with ?stats=1.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemo, type Demo } from "./support/demo-process.js";
import { Inbox, openWs, type WebSocket } from "./support/ws-client.js";

let demo: Demo;
const open: WebSocket[] = [];
beforeAll(async () => {
  demo = await startDemo();
});
afterAll(async () => {
  for (const ws of open) ws.terminate();
  await demo?.stop();
});

async function client(path: string): Promise<Inbox> {
  const ws = await openWs(demo.url.replace("http", "ws") + path);
  open.push(ws);
  return new Inbox(ws);
}

describe("/ws/echo", () => {
  it("echoes text as text and binary as binary, empty to 1 MiB", async () => {
    const c = await client("/ws/echo");
    const big = Buffer.alloc(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
    const cases: [Buffer | string, boolean][] = [
      ["hello", false],
      ["", false],
      ["héllo ☃ 🎉", false],
      [Buffer.from([0, 1, 2, 255]), true],
      [Buffer.alloc(0), true],
      [Buffer.alloc(64 * 1024, 7), true],
      [big, true],
      ["y".repeat(70_000), false],
    ];
    for (const [data, binary] of cases) c.ws.send(data, { binary });
    for (const [data, binary] of cases) {
      const m = await c.next(undefined, 10_000);
      expect(m.binary).toBe(binary);
      expect(m.data.equals(Buffer.from(data))).toBe(true);
    }
  });

  it("echoes a fragmented message whole", async () => {
    const c = await client("/ws/echo");
    c.ws.send("frag", { fin: false });
    c.ws.send("ment", { fin: false });
    c.ws.send("ed", { fin: true });
    const m = await c.next();
    expect(m.data.toString()).toBe("fragmented");
    expect(m.binary).toBe(false);
  });

  it("closes with 1000 when the client closes", async () => {
    const c = await client("/ws/echo");
    c.ws.close(1000, "bye");
    expect((await c.closeEvent()).code).toBe(1000);
  });
});

describe("/ws/chat", () => {
  it("broadcasts every text message to every client, the sender included, in order", async () => {
    const clients = await Promise.all([client("/ws/chat"), client("/ws/chat"), client("/ws/chat")]);
    clients[0]!.ws.send("one");
    clients[2]!.ws.send('{"type":"chat","from":"x","text":"two","at":1}');
    clients[0]!.ws.send("three");
    for (const c of clients) {
      const got: string[] = [];
      for (let i = 0; i < 3; i++) {
        const m = await c.next();
        expect(m.binary).toBe(false);
        got.push(m.data.toString());
      }
      // Messages from one sender keep their order; all three arrive verbatim.
      expect(got.filter((t) => t !== '{"type":"chat","from":"x","text":"two","at":1}')).toEqual(["one", "three"]);
      expect(got).toContain('{"type":"chat","from":"x","text":"two","at":1}');
    }
  });

  it("does not relay chat text shaped like the server's figures (no client can fake them on every page)", async () => {
    const [sender, reader] = await Promise.all([client("/ws/chat"), client("/ws/chat")]);
    sender.ws.send('{"type":"stats","rps":123456789,"connections":1,"websockets":1,"tasks":1,"at":1}');
    sender.ws.send(' {"type":"\\u0073tats","rps":123456789,"connections":1,"websockets":1,"tasks":1,"at":1}'); // escaped: JSON.parse reads "stats"
    sender.ws.send("after");
    expect((await reader.next()).data.toString()).toBe("after");
  });

  it("does not send figures to a client that did not ask", async () => {
    const c = await client("/ws/chat");
    await expect(c.next(() => true, 2500)).rejects.toThrow(/timed out/);
  });

  it("pushes figures once a second to a client that asked with ?stats=1", async () => {
    const c = await client("/ws/chat?stats=1");
    const a = JSON.parse((await c.next(undefined, 3000)).data.toString());
    const b = JSON.parse((await c.next(undefined, 3000)).data.toString());
    for (const s of [a, b]) {
      expect(s).toMatchObject({ type: "stats" });
      for (const k of ["rps", "connections", "websockets", "tasks", "at"]) expect(typeof s[k], k).toBe("number");
      expect(s.websockets).toBeGreaterThanOrEqual(1);
      expect(s.connections).toBeGreaterThanOrEqual(s.websockets);
      expect(s.tasks).toBeGreaterThan(0);
    }
    expect(b.at - a.at).toBeGreaterThanOrEqual(500);
    expect(b.at - a.at).toBeLessThanOrEqual(2500);
  });

  it("stops sending to a client that left and keeps serving the rest", async () => {
    const [a, b] = await Promise.all([client("/ws/chat"), client("/ws/chat")]);
    a.ws.terminate();
    await a.closeEvent();
    b.ws.send("still here");
    expect((await b.next()).data.toString()).toBe("still here");
  });
});
