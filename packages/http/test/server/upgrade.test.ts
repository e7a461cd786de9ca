// Upgrade/CONNECT: the handler takes the socket over with the bytes that
// followed the head; earlier pipelined responses are written first.
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { action } from "@skein/core";
import type { Request, Response } from "../../src/app.js";
import { Prepared } from "../../src/prepared.js";
import { exchange, rawSocket, startServer } from "../helpers/server.js";

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
