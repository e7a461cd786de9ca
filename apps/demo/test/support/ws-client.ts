/**
 * The `ws` package's client for the tests. apps/demo does not depend on `ws`
 * itself, so it is loaded from @skein/websocket, which does (same pinned
 * version as the server uses).
 */
import { createRequire } from "node:module";
import { join } from "node:path";
import type WebSocketType from "ws";
import { ROOT } from "./demo-process.js";

const require = createRequire(join(ROOT, "packages/websocket/package.json"));

/** The `ws` WebSocket class. */
export const WebSocket = require("ws") as typeof WebSocketType;
export type WebSocket = WebSocketType;

/** Opens a client and resolves once it is open. */
export function openWs(url: string, options?: WebSocketType.ClientOptions): Promise<WebSocketType> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/** Collects messages so a test can wait for the next one matching a predicate. */
export class Inbox {
  private readonly items: { data: Buffer; binary: boolean }[] = [];
  private waiters: (() => void)[] = [];
  closed: { code: number; reason: string } | undefined;

  constructor(readonly ws: WebSocketType) {
    ws.on("message", (data, isBinary) => {
      this.items.push({ data: Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), binary: isBinary });
      this.wake();
    });
    ws.on("close", (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with (and removes) the first message matching `pred`; rejects on close or timeout. */
  async next(pred: (m: { data: Buffer; binary: boolean }) => boolean = () => true, timeoutMs = 5000): Promise<{ data: Buffer; binary: boolean }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.items.findIndex(pred);
      if (i >= 0) return this.items.splice(i, 1)[0]!;
      if (this.closed) throw new Error(`socket closed (${this.closed.code}) before the expected message`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for a message");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the close frame. */
  async closeEvent(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timed out waiting for close");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.closed;
  }
}
