// Upgrade/CONNECT: the handler takes the socket over with the bytes that
// followed the head; earlier pipelined responses are written first.
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { action, sleep } from "@skein/core";
import type { Request, Response } from "../../src/app.js";
import { Prepared } from "../../src/prepared.js";
import { HttpError } from "../../src/errors.js";
import { exchange, rawSocket, startNodeServer, startServer, type Running } from "../helpers/server.js";

const hello = Prepared.text(200, "Hello, World!");
const events: string[] = [];

function closed(socket: Socket) {
  return action<void>("socket closed", (resolve) => {
    if (socket.destroyed) return resolve();
    socket.once("close", () => resolve());
  });
}

function* app(req: Request, res: Response) {
  if (!req.upgrade) return hello;
  if (req.headers.get("upgrade") === "refuse") return res.text(426, "no");
  const { socket, head, onShutdown } = yield* req.takeover();
  onShutdown((graceMs) => {
    events.push(`shutdown hook ${graceMs}`);
    socket.end("going away\n");
  });
  socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
  socket.write(`head:${head.toString("latin1")}|`);
  socket.on("data", (d) => socket.write(d));
  socket.resume();
  yield* closed(socket);
  events.push("handler done");
}

/**
 * Takes over, answers 101, and hands the echo protocol off to a task of the
 * server; the handler itself returns at once.
 */
function* handOffApp(req: Request, res: Response) {
  if (!req.upgrade) return hello;
  const { socket, handOff, onShutdown } = yield* req.takeover();
  onShutdown(() => {
    events.push("shutdown hook");
    socket.end("going away\n");
  });
  socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
  handOff(
    (function* () {
      let failure: string | null = null;
      socket.on("data", (d) => {
        if (d.toString() === "boom") failure = "boom";
        socket.write(d);
      });
      socket.on("end", () => socket.end()); // the server's sockets allow half-open connections
      socket.resume();
      // The request is still usable: its (empty) body, its addresses — answered from the socket now.
      socket.write(`from:${req.remoteAddress}|body:${(yield* req.read()).length}|`);
      try {
        yield* req.takeover();
      } catch (e) {
        socket.write(`again:${(e as HttpError).code}|`);
      }
      yield* closed(socket);
      events.push("protocol done");
      if (failure !== null) throw new Error(failure);
    })(),
  );
  events.push("handler returned");
}

/** Waits until `check` holds (the server notices a closed socket asynchronously). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
}

const upgrade = "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";

function collect(socket: Socket, until: (text: string) => boolean): Promise<string> {
  let text = "";
  return new Promise((resolve) => {
    const onData = (d: Buffer) => {
      text += d.toString("latin1");
      if (until(text)) {
        socket.off("data", onData);
        resolve(text);
      }
    };
    socket.on("data", onData);
  });
}

describe("upgrade", () => {
  it("hands the socket and the leftover bytes to the handler, after earlier pipelined responses", async () => {
    const s = await startServer(app);
    try {
      const socket = await rawSocket(s.port);
      const first = collect(socket, (t) => t.includes("|"));
      socket.write("GET /x HTTP/1.1\r\nHost: a\r\n\r\n" + upgrade + "LEFTOVER");
      const text = await first;
      const helloAt = text.indexOf("Hello, World!");
      const switchAt = text.indexOf("HTTP/1.1 101 Switching Protocols");
      expect(helloAt).toBeGreaterThan(0);
      expect(switchAt).toBeGreaterThan(helloAt);
      expect(text.endsWith("\r\n\r\nhead:LEFTOVER|")).toBe(true);
      const echo = collect(socket, (t) => t === "ping");
      socket.write("ping");
      expect(await echo).toBe("ping");
      socket.destroy();
    } finally {
      await s.stop(1000);
    }
  });

  it("takes over after an upgrade request's body, whether it came with the head or later (the body is dropped)", async () => {
    const s = await startServer(app);
    try {
      const withBody = "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\nContent-Length: 5\r\n\r\n";
      for (const pieces of [[withBody + "helloLEFTOVER"], [withBody, "hello", "LEFTOVER"]]) {
        const socket = await rawSocket(s.port);
        const switched = collect(socket, (t) => t.endsWith("|"));
        for (const piece of pieces) {
          socket.write(piece);
          await new Promise((r) => setTimeout(r, 30));
        }
        const text = await switched;
        expect(text.startsWith("HTTP/1.1 101 Switching Protocols\r\n")).toBe(true);
        // Sent later, LEFTOVER reaches the new protocol as data (echoed) rather than as the head.
        expect(text.endsWith(pieces.length === 1 ? "head:LEFTOVER|" : "head:|")).toBe(true);
        socket.destroy();
      }
    } finally {
      await s.stop(1000);
    }
  });

  it("closes after answering an upgrade request the handler did not take over", async () => {
    const s = await startServer(app);
    try {
      const r = await exchange(s.port, "GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: refuse\r\n\r\n");
      expect(r.responses.map((x) => [x.status, x.header("connection")])).toEqual([[426, "close"]]);
      expect(r.closed).toBe(true);
    } finally {
      await s.stop();
    }
  });

  it("calls shutdown hooks of taken-over connections with the grace period", async () => {
    events.length = 0;
    const s = await startServer(app);
    const socket = await rawSocket(s.port);
    const switched = collect(socket, (t) => t.includes("|"));
    socket.write(upgrade);
    await switched;
    const bye = collect(socket, (t) => t.includes("going away"));
    const stopped = s.stop(2000);
    expect(await bye).toContain("going away\n");
    socket.end();
    await stopped;
    expect(events).toEqual(["shutdown hook 2000", "handler done"]);
    expect(s.server.connectionCount).toBe(0);
  });
});

describe("toNodeListener and a pipelined upgrade", () => {
  it("answers a request pipelined before an upgrade first, then the upgrade, instead of crashing the process", async () => {
    events.length = 0;
    // The requests before the upgrade are answered a little later, so the upgrade has to wait for both.
    const s = await startNodeServer(function* (req: Request, res: Response) {
      if (!req.upgrade) yield* sleep(30);
      return yield* handOffApp(req, res);
    });
    try {
      const socket = await rawSocket(s.port);
      const switched = collect(socket, (t) => t.includes("|body:"));
      socket.write(`GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n${upgrade}`);
      const text = await switched;
      // Before: assignSocket threw ERR_HTTP_SOCKET_ASSIGNED, uncaught, and the process exited; then,
      // behind two requests, the second response and the 101 were lost.
      expect(text.split("Hello, World!").length - 1).toBe(2);
      expect(text.indexOf("HTTP/1.1 101 Switching Protocols")).toBeGreaterThan(text.lastIndexOf("Hello, World!"));
      socket.destroy();
    } finally {
      await s.stop();
    }
  });
});

describe("the outcome of a takeover", () => {
  it("is 101 even when the handler running the protocol in place is cancelled by a graceful close's deadline", async () => {
    const outcomes: string[] = [];
    const s = await startServer(function* (req: Request, res: Response) {
      res.onFinish((o) => void outcomes.push(`${o.status} ${o.complete}`));
      const { socket } = yield* req.takeover();
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n");
      yield* sleep(60_000); // the protocol runs in the handler
    });
    const socket = await rawSocket(s.port);
    const switched = collect(socket, (t) => t.includes("\r\n\r\n"));
    socket.write(upgrade);
    await switched;
    await s.stop(50);
    socket.destroy();
    // Before: the cancelled handler's exchange was reported as never answered (0, logged as 499).
    expect(outcomes).toEqual(["101 true"]);
  });
});

describe("handOff", () => {
  async function switched(s: Running): Promise<Socket> {
    const socket = await rawSocket(s.port);
    const greeting = collect(socket, (t) => t.includes("again:"));
    socket.write(upgrade);
    const text = await greeting;
    expect(text).toContain("HTTP/1.1 101 Switching Protocols\r\n");
    expect(text).toContain("from:127.0.0.1|body:0|again:HTTP_ERR_RESPONSE_STATE|");
    return socket;
  }

  it("runs the protocol as a task of the server after the handler returns; the connection stays counted until it ends", async () => {
    events.length = 0;
    const s = await startServer(handOffApp);
    try {
      const socket = await switched(s);
      expect(events).toEqual(["handler returned"]);
      expect(s.server.connectionCount).toBe(1);
      const echo = collect(socket, (t) => t.endsWith("ping"));
      socket.write("ping");
      expect(await echo).toMatch(/ping$/);
      socket.destroy();
      await until(() => s.server.connectionCount === 0);
      expect(events).toEqual(["handler returned", "protocol done"]);
      expect(s.logs).toEqual([]);
      // Plain requests are still served.
      expect((await exchange(s.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).responses[0]!.status).toBe(200);
    } finally {
      await s.stop(1000);
    }
  });

  it("logs a failure of the handed-off task with its request, and keeps serving", async () => {
    const s = await startServer(handOffApp);
    try {
      const socket = await switched(s);
      const echo = collect(socket, (t) => t.endsWith("boom"));
      socket.write("boom");
      await echo;
      socket.destroy();
      await until(() => s.logs.length === 1);
      expect(s.logs[0]!.message).toBe("skein http: GET /chat failed after takeover");
      expect((s.logs[0]!.error as Error).message).toBe("boom");
      expect(s.server.connectionCount).toBe(0);
      expect((await exchange(s.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).responses[0]!.status).toBe(200);
    } finally {
      await s.stop(1000);
    }
  });

  it("a graceful close calls the handed-off connection's hooks and waits for its task", async () => {
    events.length = 0;
    const s = await startServer(handOffApp);
    const socket = await switched(s);
    const bye = collect(socket, (t) => t.includes("going away"));
    const stopped = s.stop(2000);
    await bye;
    socket.end();
    await stopped;
    expect(events).toEqual(["handler returned", "shutdown hook", "protocol done"]);
    expect(s.server.connectionCount).toBe(0);
  });

  it("cancels a handed-off task that outlives the grace period", async () => {
    events.length = 0;
    const s = await startServer(function* (req, res) {
      if (!req.upgrade) return hello;
      const { socket, handOff } = yield* req.takeover();
      socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
      handOff(
        (function* () {
          try {
            yield* closed(socket); // the client never closes
          } finally {
            events.push("protocol cancelled");
            socket.destroy();
          }
        })(),
      );
    });
    const socket = await rawSocket(s.port);
    const switched = collect(socket, (t) => t.includes("101"));
    socket.write(upgrade);
    await switched;
    expect(s.server.connectionCount).toBe(1);
    await s.stop(50);
    expect(events).toEqual(["protocol cancelled"]);
    expect(s.server.connectionCount).toBe(0);
  });

  it("works the same through toNodeListener on node:http", async () => {
    events.length = 0;
    const s = await startNodeServer(handOffApp);
    try {
      const socket = await switched(s);
      const echo = collect(socket, (t) => t.endsWith("ping"));
      socket.write("ping");
      expect(await echo).toMatch(/ping$/);
      socket.destroy();
      await until(() => events.includes("protocol done"));
      expect(events).toEqual(["handler returned", "protocol done"]);
    } finally {
      await s.stop();
    }
  });
});
