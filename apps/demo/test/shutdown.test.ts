/**
 * SIGTERM/SIGINT: the demo stops accepting, finishes the requests in flight,
 * closes WebSockets with 1001 and exits 0.
 */
import { once } from "node:events";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { buildDemo, DEMO_MAIN, startDemo, type Demo } from "./support/demo-process.js";
import { get, RawConn } from "./support/raw-http.js";
import { Inbox, openWs } from "./support/ws-client.js";

const running: Demo[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});

/** Resolves once connecting to `port` is refused (the listener is closed). */
async function refused(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      const s = net.connect({ port, host: "127.0.0.1" }, () => {
        s.destroy();
        resolve(null);
      });
      s.once("error", (e) => resolve(e));
    });
    if (err?.code === "ECONNREFUSED") return;
    if (Date.now() > deadline) throw new Error(`port ${port} still accepts connections`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(["SIGTERM", "SIGINT"] as const)("%s", (sig) => {
  it("stops accepting, finishes requests in flight, closes WebSockets with 1001, exits 0", async () => {
    const demo = await startDemo();
    running.push(demo);
    const wsBase = demo.url.replace("http", "ws");
    const sleeper = await RawConn.open(demo.port);
    sleeper.write(get("/sleep?ms=1500"));
    const chat = new Inbox(await openWs(wsBase + "/ws/chat"));
    const echo = new Inbox(await openWs(wsBase + "/ws/echo"));

    // A streaming echo whose first chunk came back is certainly in flight.
    const upload = await RawConn.open(demo.port);
    upload.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nfirst \r\n");
    const deadline = Date.now() + 5000;
    while (!upload.unread().includes("first ")) {
      if (Date.now() > deadline) throw new Error("the echo did not start");
      await new Promise((r) => setTimeout(r, 10));
    }

    demo.child.kill(sig);
    await refused(demo.port);

    // In flight: both requests complete normally after the signal.
    upload.write("6\r\nsecond\r\n0\r\n\r\n");
    const echoed = await upload.response();
    expect(echoed.status).toBe(200);
    expect(echoed.body.toString()).toBe("first second");
    const slept = await sleeper.response({ timeoutMs: 5000 });
    expect(slept.body.toString()).toBe("slept 1500");

    expect((await chat.closeEvent(10_000)).code).toBe(1001);
    expect((await echo.closeEvent(10_000)).code).toBe(1001);
    expect(await demo.exited).toEqual({ code: 0, signal: null });
  });
});

describe("a second signal while stopping", () => {
  it("is not the echo of the first: two SIGINTs sent at once (one Ctrl-C under pnpm start) still stop gracefully", async () => {
    const demo = await startDemo();
    running.push(demo);
    const sleeper = await RawConn.open(demo.port);
    sleeper.write(get("/sleep?ms=800"));
    await new Promise((r) => setTimeout(r, 150)); // in the handler
    demo.child.kill("SIGINT");
    demo.child.kill("SIGINT");
    expect((await sleeper.response({ timeoutMs: 5000 })).status).toBe(200);
    expect(await demo.exited).toEqual({ code: 0, signal: null });
  });


  it("exits at once with 128 + its number and says so, instead of cutting the requests in flight and exiting 0", async () => {
    const demo = await startDemo();
    running.push(demo);
    const sleeper = await RawConn.open(demo.port);
    sleeper.write(get("/sleep?ms=5000"));
    await new Promise((r) => setTimeout(r, 100)); // in the handler
    demo.child.kill("SIGTERM");
    await refused(demo.port);
    await new Promise((r) => setTimeout(r, 200)); // past the 100 ms in which a repeat counts as an echo of the first
    demo.child.kill("SIGINT");
    expect(await demo.exited).toEqual({ code: 130, signal: null });
    expect(demo.output()).toContain("demo: SIGINT received while stopping after SIGTERM; exiting now (code 130)");
  });
});

describe("started by a package manager", () => {
  const STARTER = fileURLToPath(new URL("./support/starter.mjs", import.meta.url));

  it("stops as on SIGTERM when the process that started it is killed (a SIGTERM to the outer npx does not reach it)", async () => {
    await buildDemo();
    const starter = await startDemo({ entry: STARTER, args: [DEMO_MAIN, "--port", "0"], env: { npm_lifecycle_event: "start" } });
    running.push(starter);
    const outputClosed = once(starter.child.stdout!, "close"); // once the demo too has exited: it shares the pipe
    starter.child.kill("SIGKILL");
    await outputClosed;
    expect(starter.output()).toMatch(new RegExp(`demo: process ${starter.child.pid}, which started it, is gone; stopping as on SIGTERM`));
    await refused(starter.port, 1000);
  });

  it("is not followed when no package manager started it", async () => {
    await buildDemo();
    const env: Record<string, string> = { npm_lifecycle_event: "" };
    const starter = await startDemo({ entry: STARTER, args: [DEMO_MAIN, "--port", "0"], env });
    const outputClosed = once(starter.child.stdout!, "close");
    starter.child.kill("SIGKILL");
    await new Promise((r) => setTimeout(r, 1500)); // three looks at the chain, had it been followed
    const answer = await RawConn.open(starter.port).then(async (c) => {
      c.write(get("/plaintext"));
      return c.response();
    });
    expect(answer.status).toBe(200);
    process.kill(Number(/starter: demo pid (\d+)/.exec(starter.output())![1]), "SIGTERM");
    await outputClosed;
  });
});
