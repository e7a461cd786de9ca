/**
 * `--workers N`: N processes share the port, and a chat message reaches every
 * client whichever process holds it (broadcast across processes over
 * node:cluster IPC).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDemo, type Demo } from "./support/demo-process.js";
import { get, request } from "./support/raw-http.js";
import { Inbox, openWs } from "./support/ws-client.js";

let demo: Demo;
beforeAll(async () => {
  demo = await startDemo({ args: ["--port", "0", "--workers", "2"] });
});
afterAll(async () => {
  await demo?.stop();
});

async function statsClient(): Promise<{ inbox: Inbox; pid: number; workers: number }> {
  const inbox = new Inbox(await openWs(demo.url.replace("http", "ws") + "/ws/chat?stats=1"));
  const first = JSON.parse((await inbox.next((m) => m.data.toString().includes('"stats"'), 5000)).data.toString());
  return { inbox, pid: first.pid, workers: first.workers };
}

describe("--workers 2", () => {
  it("prints one URL and serves HTTP from the shared port", async () => {
    expect(demo.output().match(/http:\/\/127\.0\.0\.1:\d+/g)?.length).toBe(1);
    for (let i = 0; i < 8; i++) expect((await request(demo.port, get("/plaintext"))).body.toString()).toBe("Hello, World!");
  });

  it("broadcasts chat to every client, whichever process holds it", async () => {
    const clients = await Promise.all(Array.from({ length: 6 }, statsClient));
    const pids = new Set(clients.map((c) => c.pid));
    expect(pids.size).toBe(2); // the connections landed on both workers
    expect(pids.has(demo.child.pid!)).toBe(false);
    for (const c of clients) expect(c.workers).toBeLessThanOrEqual(2);

    const byPid = [...pids].map((pid) => clients.find((c) => c.pid === pid)!);
    byPid[0]!.inbox.ws.send("from the first worker");
    byPid[1]!.inbox.ws.send("from the second worker");
    for (const c of clients) {
      await c.inbox.next((m) => m.data.toString() === "from the first worker");
      await c.inbox.next((m) => m.data.toString() === "from the second worker");
    }
    for (const c of clients) c.inbox.ws.close();
  });

  it("sums the figures of both workers", async () => {
    const c = await statsClient();
    const deadline = Date.now() + 5000;
    let s: { workers: number; websockets: number; tasks: number } | undefined;
    do {
      s = JSON.parse((await c.inbox.next((m) => m.data.toString().includes('"stats"'), 3000)).data.toString());
    } while (s!.workers !== 2 && Date.now() < deadline);
    expect(s!.workers).toBe(2);
    expect(s!.tasks).toBeGreaterThan(1);
    c.inbox.ws.close();
  });

  it("exits 0 on SIGTERM, closing WebSockets on every worker with 1001", async () => {
    const clients = await Promise.all(Array.from({ length: 4 }, statsClient));
    expect(new Set(clients.map((c) => c.pid)).size).toBe(2);
    demo.child.kill("SIGTERM");
    for (const c of clients) expect((await c.inbox.closeEvent(10_000)).code).toBe(1001);
    expect(await demo.exited).toEqual({ code: 0, signal: null });
  });
});
