/**
 * The servers under test, one process each (pinned to one core by the
 * orchestrator): Skein (@skein/http + websocket() + Hub) and plain `ws`
 * (`WebSocketServer`, `ws.on('message', m => ws.send(m))`, broadcast as a
 * loop of `ws.send`). Same routes on both:
 *
 *   /echo  echo every message     /sub  receive broadcasts
 *   /pub   broadcast every message to /sub     /idle  hold the connection
 *
 * Each prints `{"port":N}` once listening, and answers a `mem` line on stdin
 * with its memory after a full GC.
 */
import { createInterface } from "node:readline";
import type { AddressInfo } from "node:net";
import { main } from "@skein/core";
import { serve, type App } from "@skein/http";
import { WebSocketServer, type WebSocket as WsSocket } from "ws";
import { Hub, websocket } from "../src/index.js";

function answerMemoryRequests(): void {
  createInterface({ input: process.stdin }).on("line", (line) => {
    if (line.trim() !== "mem") return;
    const gc = (globalThis as { gc?: () => void }).gc;
    if (gc === undefined) throw new Error("run the server with --expose-gc");
    for (let i = 0; i < 4; i++) gc();
    const m = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers })}\n`);
  });
}

/** Skein: the same handlers a user would write. */
export function skeinServer(): void {
  answerMemoryRequests();
  const hub = new Hub();
  const echo = websocket(function* (ws) {
    for (;;) {
      const msg = yield* ws.recv();
      if (msg === null) return;
      yield* ws.send(msg.data, { binary: msg.binary });
    }
  });
  const sub = websocket(function* (ws) {
    hub.subscribe(ws, "all");
    while ((yield* ws.recv()) !== null);
  });
  const pub = websocket(function* (ws) {
    for (;;) {
      const msg = yield* ws.recv();
      if (msg === null) return;
      hub.publish("all", msg.data, { binary: msg.binary });
    }
  });
  const idle = websocket(function* (ws) {
    while ((yield* ws.recv()) !== null);
  });
  const routes: Record<string, App> = { "/echo": echo, "/sub": sub, "/pub": pub, "/idle": idle };
  const app: App = (req, res) => (routes[req.path] ?? echo)(req, res);
  void main(serve({ port: 0, host: "127.0.0.1", onListening: (s) => console.log(JSON.stringify({ port: s.address.port })) }, app));
}

/** Plain ws, written the way its README shows. */
export function wsServer(): void {
  answerMemoryRequests();
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  const subs = new Set<WsSocket>();
  wss.on("connection", (ws, req) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/echo") ws.on("message", (m) => ws.send(m));
    else if (path === "/sub") {
      subs.add(ws);
      ws.on("close", () => subs.delete(ws));
    } else if (path === "/pub") {
      ws.on("message", (m) => {
        for (const c of subs) c.send(m);
      });
    }
  });
  wss.on("listening", () => console.log(JSON.stringify({ port: (wss.address() as AddressInfo).port })));
}
