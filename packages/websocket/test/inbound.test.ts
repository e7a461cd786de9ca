/**
 * The inbound queue on its own, around a stand-in for ws's socket: bounded
 * under a producer that stays ahead, and flow control calls.
 */
import { currentTask, run } from "@skein/core";
import { describe, expect, it } from "vitest";
import { resolveLimits } from "../src/limits.js";
import { WebSocket } from "../src/socket.js";
import type { RawWebSocket } from "../src/ws-internals.js";

function fakeRaw(log: string[]): RawWebSocket {
  return {
    _socket: null,
    _isServer: true,
    _extensions: {},
    readyState: 1,
    sink: null,
    pause: () => log.push("pause"),
    resume: () => log.push("resume"),
  } as unknown as RawWebSocket;
}

describe("inbound queue", () => {
  it("keeps its storage bounded when the handler stays a few messages behind forever", async () => {
    const log: string[] = [];
    const sizes = await run(function* () {
      const task = yield* currentTask();
      const ws = new WebSocket(fakeRaw(log), task.kernel, resolveLimits({ pingIntervalMs: 0, maxQueuedMessages: 100 }));
      let seq = 0;
      for (let i = 0; i < 5; i++) ws.onMessage(Buffer.from([seq++ & 0xff]), true);
      let inOrder = true;
      let expected = 0;
      for (let i = 0; i < 50_000; i++) {
        ws.onMessage(Buffer.from([seq++ & 0xff]), true);
        const msg = yield* ws.recv();
        if (msg!.data[0] !== (expected++ & 0xff)) inOrder = false;
      }
      return { queued: ws.queuedMessages, storage: (ws as unknown as { queue: unknown[] }).queue.length, inOrder };
    });
    expect(sizes.queued).toBe(5);
    expect(sizes.inOrder).toBe(true);
    expect(sizes.storage).toBeLessThan(3000);
    expect(log).toEqual([]);
  });

  it("pauses reading past maxQueuedMessages and resumes at half", async () => {
    const log: string[] = [];
    await run(function* () {
      const task = yield* currentTask();
      const ws = new WebSocket(fakeRaw(log), task.kernel, resolveLimits({ pingIntervalMs: 0, maxQueuedMessages: 4 }));
      for (let i = 0; i < 6; i++) ws.onMessage(Buffer.from([i]), true);
      log.push(`queued ${ws.queuedMessages}`);
      for (let i = 0; i < 4; i++) {
        yield* ws.recv();
        log.push(`took, ${ws.queuedMessages} left`);
      }
    });
    // Paused when a fifth message waits; resumed when only two (half) are left.
    expect(log).toEqual(["pause", "queued 6", "took, 5 left", "took, 4 left", "took, 3 left", "resume", "took, 2 left"]);
  });
});
