/**
 * Heartbeat: the schedule as an ordered log under a virtual clock, then the
 * same rules on the wire with short real timeouts (no elapsed-time checks).
 */
import { currentTask, Event, run, VirtualClock } from "@skein/core";
import { afterEach, describe, expect, it } from "vitest";
import { websocket, type WebSocket } from "@skein/websocket";
import { Heartbeat, type HeartbeatTarget } from "../src/heartbeat.js";
import { resolveLimits, type WebSocketLimits } from "../src/limits.js";
import { startHost, type Host } from "./support/host.js";
import { frame, openClient, RawPeer, until } from "./support/peers.js";

/** Runs a heartbeat on a stub socket under a virtual clock driven by `script`, and returns the log. */
async function schedule(limits: Partial<WebSocketLimits>, script: (hb: Heartbeat, advance: (ms: number) => void, target: { readPaused: boolean; writeStalled: boolean }) => void): Promise<string[]> {
  const clock = new VirtualClock();
  const log: string[] = [];
  await run(
    function* () {
      const task = yield* currentTask();
      const target: HeartbeatTarget & { readPaused: boolean; writeStalled: boolean; isClosed: boolean } = {
        kernel: task.kernel,
        limits: resolveLimits(limits),
        readPaused: false,
        writeStalled: false,
        isClosed: false,
        sendHeartbeatPing: () => log.push(`ping@${clock.now()}`),
        expire: (reason) => {
          log.push(`${reason}@${clock.now()}`);
          target.isClosed = true;
        },
      };
      const hb = new Heartbeat(target);
      script(hb, (ms) => clock.advance(ms), target);
      hb.stop();
    },
    { clock },
  );
  return log;
}

describe("heartbeat schedule (virtual clock)", () => {
  it("pings every pingIntervalMs while pongs come back", async () => {
    const log = await schedule({ pingIntervalMs: 100, pongTimeoutMs: 30 }, (hb, advance) => {
      advance(100);
      for (let i = 0; i < 3; i++) {
        advance(10); // the pong comes back 10 ms after each ping
        hb.onPong();
        advance(90);
      }
    });
    expect(log).toEqual(["ping@100", "ping@200", "ping@300", "ping@400"]);
  });

  it("expires a peer that does not answer within pongTimeoutMs", async () => {
    const log = await schedule({ pingIntervalMs: 100, pongTimeoutMs: 30 }, (hb, advance) => {
      advance(100);
      hb.onPong();
      advance(100);
      advance(100);
    });
    expect(log).toEqual(["ping@100", "ping@200", "WS_ERR_PONG_TIMEOUT@230"]);
  });

  it("does not expire a peer whose pong waits unread while the handler is behind", async () => {
    const log = await schedule({ pingIntervalMs: 100, pongTimeoutMs: 30 }, (hb, advance, target) => {
      target.readPaused = true;
      advance(100);
      advance(100);
      target.readPaused = false;
      hb.onPong();
      advance(100);
    });
    expect(log).toEqual(["ping@100", "ping@200", "ping@300"]);
  });

  it("expires a peer behind unread pongs when it is not reading our messages either", async () => {
    const log = await schedule({ pingIntervalMs: 100, pongTimeoutMs: 30 }, (_hb, advance, target) => {
      target.readPaused = true; // the handler is stuck sending to this very peer
      target.writeStalled = true;
      advance(100);
      advance(100);
    });
    expect(log).toEqual(["ping@100", "WS_ERR_PONG_TIMEOUT@130"]);
  });

  it("closes after idleTimeoutMs without a message, counted from the last one", async () => {
    const log = await schedule({ pingIntervalMs: 0, idleTimeoutMs: 50 }, (hb, advance) => {
      advance(40);
      hb.lastMessageAt = 40;
      advance(60);
      advance(100);
    });
    expect(log).toEqual(["WS_ERR_IDLE_TIMEOUT@90"]);
  });

  it("does not count time while reading is paused (the handler is behind) as idle", async () => {
    const log = await schedule({ pingIntervalMs: 0, idleTimeoutMs: 50 }, (_hb, advance, target) => {
      target.readPaused = true; // the peer's messages wait unread in our socket
      advance(200);
      target.readPaused = false; // and nothing more came once reading resumed
      advance(100);
    });
    expect(log).toEqual(["WS_ERR_IDLE_TIMEOUT@250"]);
  });

  it("idles out a peer behind paused reading when it is not reading our messages either", async () => {
    const log = await schedule({ pingIntervalMs: 0, idleTimeoutMs: 50 }, (_hb, advance, target) => {
      target.readPaused = true; // the handler is stuck sending to this very peer
      target.writeStalled = true;
      advance(200);
    });
    expect(log).toEqual(["WS_ERR_IDLE_TIMEOUT@50"]);
  });

  it("ends every connection at maxLifetimeMs", async () => {
    const log = await schedule({ pingIntervalMs: 40, pongTimeoutMs: 0, maxLifetimeMs: 100 }, (_hb, advance) => advance(500));
    expect(log).toEqual(["ping@40", "ping@80", "WS_ERR_MAX_LIFETIME@100"]);
  });

  it("arms no timer when every interval is 0", async () => {
    expect(Heartbeat.needed(resolveLimits({ pingIntervalMs: 0 }))).toBe(false);
    expect(Heartbeat.needed(resolveLimits({}))).toBe(true);
  });
});

describe("heartbeat on the wire", () => {
  let h: Host;
  const seen: unknown[] = [];
  afterEach(async () => {
    seen.length = 0;
    await h?.stop();
  });
  const watcher = (limits: Partial<WebSocketLimits>, gate?: Event) =>
    websocket(function* (ws: WebSocket) {
      if (gate) yield* gate.wait();
      for (;;) {
        const msg = yield* ws.recv();
        if (msg !== null) continue;
        seen.push(ws.error?.code ?? null, ws.closeCode);
        return;
      }
    }, limits);

  it("terminates a peer that never answers pings (no close frame), and the handler learns why", async () => {
    h = await startHost(watcher({ pingIntervalMs: 20, pongTimeoutMs: 40 }));
    const peer = await RawPeer.open(h.port);
    await peer.endEvent();
    expect(peer.frames.length).toBeGreaterThan(0);
    expect(peer.frames.every((f) => f.opcode === 0x9)).toBe(true);
    await until(() => seen.length === 2);
    expect(seen).toEqual(["WS_ERR_PONG_TIMEOUT", 1006]);
  });

  it("keeps a peer that answers pings (the ws client pongs by itself)", async () => {
    h = await startHost(watcher({ pingIntervalMs: 10, pongTimeoutMs: 30 }));
    const c = await openClient(h.url);
    let pings = 0;
    c.ws.on("ping", () => pings++);
    await until(() => pings >= 10, 5000, "ten pings");
    expect(c.closed).toBe(null);
    c.ws.close();
  });

  it("keeps a peer whose pongs answer by hand", async () => {
    h = await startHost(watcher({ pingIntervalMs: 10, pongTimeoutMs: 30 }));
    const peer = await RawPeer.open(h.port);
    for (let answered = 0; answered < 8; answered++) {
      await peer.frameAt(answered);
      peer.write(frame(0xa, peer.frames[answered]!.payload));
    }
    expect(peer.ended).toBe(false);
    peer.destroy();
  });

  it("drops a peer that floods the echo and then reads nothing, instead of holding it forever", async () => {
    let server: WebSocket | null = null;
    let pausedSeen = false;
    const echo = websocket(function* (ws: WebSocket) {
      server = ws;
      try {
        for (;;) {
          const msg = yield* ws.recv();
          if (msg === null) return;
          yield* ws.send(msg.data, { binary: msg.binary }); // blocks: the peer reads nothing
        }
      } finally {
        seen.push(ws.error?.code ?? null);
      }
    }, { pingIntervalMs: 100, pongTimeoutMs: 300 });
    h = await startHost(echo);
    const peer = await RawPeer.open(h.port);
    peer.socket.pause(); // read nothing from now on: no pongs, no echoes
    // Flood until TCP pushes back: the handler blocks sending to this peer and the server stops reading.
    const message = frame(0x2, Buffer.alloc(64 * 1024, 0x61));
    let sent = 0;
    const pump = () => {
      while (seen.length === 0 && sent < 64 << 20) {
        sent += message.length;
        if (!peer.socket.write(message)) return;
      }
    };
    peer.socket.on("drain", pump);
    pump();

    await until(() => (pausedSeen ||= server?.readPaused === true) && seen.length === 1, 5000, "the server to pause reading, then drop the peer");
    expect(pausedSeen).toBe(true);
    expect(seen).toEqual(["WS_ERR_PONG_TIMEOUT"]);
    peer.destroy();
  });

  it("closes an idle connection with 1001 after idleTimeoutMs", async () => {
    h = await startHost(watcher({ pingIntervalMs: 0, idleTimeoutMs: 60 }));
    const c = await openClient(h.url);
    expect(await c.closeEvent()).toEqual({ code: 1001, reason: "idle timeout" });
    await until(() => seen.length === 2);
    expect(seen).toEqual(["WS_ERR_IDLE_TIMEOUT", 1001]);
  });

  it("messages keep a connection from idling out", async () => {
    h = await startHost(watcher({ pingIntervalMs: 0, idleTimeoutMs: 80 }));
    const c = await openClient(h.url);
    for (let i = 0; i < 12; i++) {
      c.ws.send("still here");
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(c.closed).toBe(null);
    c.ws.close();
  });

  it("does not idle out a peer that keeps sending while the handler is behind and reading is paused", async () => {
    const gate = new Event("gate");
    let server: WebSocket | null = null;
    let received = 0;
    h = await startHost(
      websocket(
        function* (ws: WebSocket) {
          server = ws;
          yield* gate.wait(); // the handler falls behind
          while ((yield* ws.recv()) !== null) received++;
          seen.push(ws.error?.code ?? null, ws.closeCode);
        },
        { pingIntervalMs: 0, idleTimeoutMs: 200, maxQueuedMessages: 4 },
      ),
    );
    const c = await openClient(h.url);
    let sent = 0;
    const chatter = setInterval(() => c.ws.readyState === 1 && c.ws.send(`tick ${sent++}`), 10);
    await until(() => server?.readPaused === true, 2000, "reading to pause");
    await sleepMs(800); // four idle timeouts, with a message every 10 ms waiting unread
    expect(c.closed).toBe(null);
    gate.set();
    await until(() => server!.readPaused === false, 2000, "reading to resume");
    await sleepMs(300);
    clearInterval(chatter);
    expect(c.closed).toBe(null);
    // Once the peer really goes quiet, the idle timeout still applies.
    expect(await c.closeEvent()).toEqual({ code: 1001, reason: "idle timeout" });
    await until(() => seen.length === 2);
    expect(seen).toEqual(["WS_ERR_IDLE_TIMEOUT", 1001]);
    expect(received).toBe(sent);
  });

  it("closes any connection with 1001 at maxLifetimeMs", async () => {
    h = await startHost(watcher({ pingIntervalMs: 0, maxLifetimeMs: 50 }));
    const c = await openClient(h.url);
    const chatter = setInterval(() => c.ws.readyState === 1 && c.ws.send("busy"), 5);
    expect(await c.closeEvent()).toEqual({ code: 1001, reason: "maximum lifetime reached" });
    clearInterval(chatter);
    await until(() => seen.length === 2);
    expect(seen).toEqual(["WS_ERR_MAX_LIFETIME", 1001]);
  });
});

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
