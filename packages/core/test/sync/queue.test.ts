import { describe, expect, test } from "vitest";
import { Channel, ClosedError, Queue, run, sleep, spawn, VirtualClock } from "@skein/core";

describe("Queue", () => {
  test("a bounded queue suspends put while full and resumes it on get", async () => {
    const log: string[] = [];
    await run(function* () {
      const q = new Queue<number>(2);
      yield* spawn(function* () {
        for (let i = 0; i < 4; i++) {
          yield* q.put(i);
          log.push(`put ${i}`);
        }
      });
      yield* sleep(10);
      log.push(`size ${q.size}, putters ${q.waiting.putters}`);
      for (let i = 0; i < 4; i++) log.push(`got ${yield* q.get()}`);
    }, { clock: new VirtualClock({ autoJump: true }) });
    // The getter keeps draining synchronously; the putter it woke runs when the getter next blocks.
    expect(log).toEqual(["put 0", "put 1", "size 2, putters 1", "got 0", "got 1", "got 2", "put 2", "put 3", "got 3"]);
  });

  test("capacity 0 is a rendezvous: put waits for a getter", async () => {
    const log: string[] = [];
    await run(function* () {
      const q = new Queue<string>(0);
      yield* spawn(function* () {
        yield* q.put("a");
        log.push("put returned");
      });
      yield* sleep(5);
      log.push("getting");
      log.push(yield* q.get());
    }, { clock: new VirtualClock({ autoJump: true }) });
    expect(log).toEqual(["getting", "a", "put returned"]);
  });

  test("close fails waiting putters and lets getters drain, then raises ClosedError", async () => {
    const out = await run(function* () {
      const q = new Queue<number>(1);
      yield* q.put(1);
      const putter = yield* spawn(q.put(2));
      yield* sleep(0);
      q.close();
      let putErr: unknown;
      try {
        yield* putter;
      } catch (e) {
        putErr = e;
      }
      const first = yield* q.get();
      let getErr: unknown;
      try {
        yield* q.get();
      } catch (e) {
        getErr = e;
      }
      return [putErr instanceof ClosedError, first, getErr instanceof ClosedError, (getErr as ClosedError).code];
    });
    expect(out).toEqual([true, 1, true, "SKEIN_ERR_CLOSED"]);
  });

  test("tryPut / tryGet never wait", async () => {
    await run(function* () {
      const q = new Queue<number>(1);
      expect(q.tryPut(1)).toBe(true);
      expect(q.tryPut(2)).toBe(false);
      expect(q.tryGet()).toEqual({ ok: true, value: 1 });
      expect(q.tryGet()).toEqual({ ok: false });
    });
  });
});

describe("Channel", () => {
  test("recv returns undefined once the channel is closed and drained", async () => {
    const got = await run(function* () {
      const ch = new Channel<number>();
      yield* spawn(function* () {
        for (let i = 0; i < 3; i++) yield* ch.send(i);
        ch.close();
      });
      const out: number[] = [];
      let v: number | undefined;
      while ((v = yield* ch.recv()) !== undefined) out.push(v);
      return out;
    });
    expect(got).toEqual([0, 1, 2]);
  });
});
