import { describe, expect, test } from "vitest";
import { once } from "node:events";
import net from "node:net";
import { cancel, connect, Event, Lock, Queue, run, sleep, spawn, start, timeout, wait, yieldNow, type Conn, type Operation, type Task } from "@skein/core";
import { startServer } from "./net/support.js";
import { runChild } from "./support/child.js";

describe("cancellation releases everything", () => {
  test("cancelling 10,000 tasks blocked in every kind of operation leaves no timers, waiters or listeners", async () => {
    const q = new Queue<number>(1, "full");
    const empty = new Queue<number>(Infinity, "empty");
    const ev = new Event();
    const lock = new Lock();
    const conns: Conn[] = [];
    const { kernel, promise } = start(function* () {
      yield* q.put(0); // now full: further puts block
      yield* lock.acquire(); // held: further acquires block
      const server = yield* startServer(function* (conn) {
        yield* conn.recv(); // server side blocked too
      });
      for (let i = 0; i < 50; i++) conns.push(yield* connect({ port: server.port }));
      const blocked: Task<unknown>[] = [];
      const kinds = [
        () => sleep(1e9),
        () => empty.get(),
        () => q.put(1),
        () => ev.wait(),
        () => lock.acquire(),
        () => timeout(1e9, empty.get()),
      ];
      for (let i = 0; i < 10_000; i++) {
        const conn = conns[i % 50]!;
        const op: Operation<unknown> = i < 50 ? conn.recv() : kinds[i % kinds.length]!();
        blocked.push(yield* spawn(op));
      }
      const joiner = yield* spawn(function* () {
        yield* blocked[0]!;
      });
      yield* yieldNow();
      expect(kernel.liveTasks).toBeGreaterThan(10_000);
      expect(kernel.timers.size).toBeGreaterThan(3000);
      for (const t of blocked) t.cancel();
      yield* cancel(joiner);
      for (const t of blocked) yield* cancel(t);
      yield* cancel(server.task);
      const closed = conns.map((c) => once(c.socket, "close"));
      for (const c of conns) c.close();
      yield* wait(Promise.all(closed));
    });
    await promise;
    expect(kernel.liveTasks).toBe(0);
    expect(kernel.timers.size).toBe(0);
    expect(empty.waiting).toEqual({ getters: 0, putters: 0 });
    expect(q.waiting).toEqual({ getters: 0, putters: 0 });
    expect(ev.waiting).toBe(0);
    expect(lock.waiting).toBe(0);
    // Node's own sockets carry internal listeners; ours must all be gone.
    const fresh = new net.Socket();
    for (const c of conns) {
      expect(c.socket.listenerCount("data")).toBeLessThanOrEqual(1); // only the discard-after-close listener
      for (const ev of ["end", "drain", "close"]) expect(c.socket.listenerCount(ev)).toBe(fresh.listenerCount(ev));
    }
  });

  test("run() leaves no kernel timers behind after timeouts that did not fire", async () => {
    const { kernel, promise } = start(function* () {
      for (let i = 0; i < 1000; i++) yield* timeout(60_000, sleep(0));
    });
    await promise;
    expect(kernel.timers.size).toBe(0);
    await run(function* () {}); // and a second kernel is independent
  });

  test("after run() resolves, no Node timer is left armed, even when a task was cancelled (its grace timer)", async () => {
    // The process must be free to exit at once: a leftover armed timer kept
    // it alive for the whole grace period (5 s by default) after run() ended.
    const result = await runChild(`
      import { cancel, run, sleep, spawn } from "@skein/core";
      await run(function* () {
        const t = yield* spawn(sleep(60_000));
        yield* sleep(1);
        yield* cancel(t);
      });
      console.log(JSON.stringify(process.getActiveResourcesInfo()));
    `);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.trim()) as string[]).not.toContain("Timeout");
  });
});
