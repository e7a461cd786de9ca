import { test, expect } from "vitest";
import { Event, run, sleep, spawn, join, Queue, timeout, TimeoutError, serve, connect, VirtualClock, cancel, all, race, group } from "@skein/core";

test("basic", async () => {
  const r = await run(function* () {
    const t = yield* spawn(function* () { yield* sleep(5); return 7; });
    return (yield* join(t)) + 1;
  });
  expect(r).toBe(8);
});

test("pingpong", async () => {
  const n = await run(function* () {
    const a = new Queue<number>(1), b = new Queue<number>(1);
    const N = 1_000_000;
    yield* spawn(function* () { for (let i = 0; i < N; i++) { const v = yield* a.get(); yield* b.put(v + 1); } });
    const t0 = performance.now();
    let v = 0;
    for (let i = 0; i < N; i++) { yield* a.put(v); v = yield* b.get(); }
    const dt = performance.now() - t0;
    console.log("switches/s", (2 * N / dt * 1000).toFixed(0));
    return v;
  });
  expect(n).toBe(1_000_000);
});

test("timeout virtual", async () => {
  const clock = new VirtualClock({ autoJump: true });
  await expect(run(function* () { yield* timeout(1000, sleep(60_000)); }, { clock })).rejects.toBeInstanceOf(TimeoutError);
});

test("echo", async () => {
  await run(function* () {
    let port = 0;
    const up = new Event();
    const srv = yield* spawn(serve({ port: 0, onListening: (a) => { port = a.port; up.set(); } }, function* (conn) {
      for (;;) { const d = yield* conn.recv(); if (d.length === 0) return; yield* conn.sendAll(d); }
    }));
    yield* up.wait();
    const c = yield* connect({ port });
    c.send("hello");
    const got = yield* c.recvExactly(5);
    expect(got.toString()).toBe("hello");
    c.close();
    yield* cancel(srv);
  });
});

test("all race group", async () => {
  const r = await run(function* () {
    const [a, b] = yield* all([ (function*(){ yield* sleep(3); return 1; })(), (function*(){ return "x"; })() ]);
    const w = yield* race([ (function*(){ yield* sleep(50); return "slow"; })(), (function*(){ yield* sleep(1); return "fast"; })() ]);
    let err: unknown;
    try { yield* group(function* (g) { yield* g.spawn(function*(){ yield* sleep(1); throw new Error("boom"); }); yield* g.spawn(sleep(10000)); }); } catch (e) { err = e; }
    return [a, b, w, (err as Error).message];
  });
  expect(r).toEqual([1, "x", "fast", "boom"]);
});
