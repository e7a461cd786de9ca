import { describe, expect, test } from "vitest";
import { all, cancel, group, Lock, moveOnAfter, Queue, race, run, runAll, sleep, spawn, timeout, TimeoutError, VirtualClock, type Operation } from "@skein/core";

const virtual = () => new VirtualClock({ autoJump: true });

describe("group, all, race, runAll", () => {
  test("group returns only after every member has finished", async () => {
    const clock = virtual();
    const log: string[] = [];
    await run(function* () {
      yield* group(function* (g) {
        for (const ms of [30, 10, 20]) {
          yield* g.spawn(function* () {
            yield* sleep(ms);
            log.push(`${ms}`);
          });
        }
      });
      log.push(`group done at ${clock.now()}`);
    }, { clock });
    expect(log).toEqual(["10", "20", "30", "group done at 30"]);
  });

  test("a member's failure cancels the others and is catchable around the group", async () => {
    const log: string[] = [];
    const err = await run(function* () {
      try {
        yield* group(function* (g) {
          yield* g.spawn(function* () {
            try {
              yield* sleep(1000);
            } finally {
              log.push("sibling cancelled");
            }
          });
          yield* g.spawn(function* () {
            yield* sleep(1);
            throw new Error("member failed");
          });
        });
      } catch (e) {
        return e;
      }
    }, { clock: virtual() });
    expect((err as Error).message).toBe("member failed");
    expect(log).toEqual(["sibling cancelled"]);
  });

  test("all returns results in order; race returns the first and cancels the rest", async () => {
    const clock = virtual();
    const log: string[] = [];
    const out = await run(function* () {
      const both = yield* all([
        (function* () {
          yield* sleep(20);
          return "slow";
        })(),
        (function* () {
          yield* sleep(10);
          return 2;
        })(),
      ]);
      const first = yield* race([
        (function* () {
          try {
            yield* sleep(500);
            return "loser";
          } finally {
            log.push("loser cancelled");
          }
        })(),
        (function* () {
          yield* sleep(5);
          return "winner";
        })(),
      ]);
      return [both, first, clock.now()];
    }, { clock });
    expect(out).toEqual([["slow", 2], "winner", 25]);
    expect(log).toEqual(["loser cancelled"]);
  });

  test("a deadline around race, all or group cancels their members and waits for their cleanup before it fires", async () => {
    const clock = virtual();
    const log: string[] = [];
    function* member(name: string, ms: number, fail = false): Operation<string> {
      try {
        yield* sleep(ms);
        if (fail) throw new Error(`${name} failed late`);
        return name;
      } finally {
        log.push(`${name} finally @${clock.now()}`);
      }
    }
    const outcome = await run(function* () {
      let raced: unknown;
      try {
        yield* timeout(50, race([member("r1", 300), member("r2", 400)]));
      } catch (e) {
        raced = e;
      }
      log.push(`timeout thrown @${clock.now()}`);
      const allResult = yield* moveOnAfter(50, all([member("a1", 200, true), member("a2", 300)]));
      log.push(`moveOnAfter returned ${String(allResult)} @${clock.now()}`);
      yield* sleep(1000); // a member failing later would have cancelled us here
      return raced;
    }, { clock });
    expect(outcome).toBeInstanceOf(TimeoutError);
    // Members' cleanup runs (in either order) before the deadline's error or undefined comes out.
    expect(log.slice(0, 2).sort()).toEqual(["r1 finally @50", "r2 finally @50"]);
    expect(log[2]).toBe("timeout thrown @50");
    expect(log.slice(3, 5).sort()).toEqual(["a1 finally @100", "a2 finally @100"]);
    expect(log.slice(5)).toEqual(["moveOnAfter returned undefined @100"]);
  });

  test("a cancelled task's cleanup may still use all, race and group", async () => {
    const clock = virtual();
    const log: string[] = [];
    await run(function* () {
      const child = yield* spawn(function* () {
        try {
          yield* sleep(60_000);
        } finally {
          const both = yield* all([function* () { yield* sleep(5); return 1; }, function* () { yield* sleep(10); return 2; }].map((f) => f()));
          const first = yield* race([sleep(20), function* () { yield* sleep(1); return "quick"; }()]);
          log.push(`cleanup: all ${both.join(",")}, race ${String(first)} @${clock.now()}`);
        }
      });
      yield* sleep(1);
      yield* cancel(child);
      log.push(`cancelled @${clock.now()}`);
    }, { clock });
    expect(log).toEqual(["cleanup: all 1,2, race quick @12", "cancelled @12"]);
  });

  test("runAll runs thousands of coroutines from a source, never more than the bound at once", async () => {
    let active = 0;
    let peak = 0;
    let finished = 0;
    function* job(i: number) {
      active++;
      peak = Math.max(peak, active);
      yield* sleep(1 + (i % 7));
      active--;
      finished++;
    }
    function* source() {
      for (let i = 0; i < 5000; i++) yield job(i);
    }
    const count = await run(runAll(source(), { concurrency: 250 }), { clock: virtual() });
    expect(count).toBe(5000);
    expect(finished).toBe(5000);
    expect(peak).toBe(250);
  });

  test("race takes one thing only: of two queues with an item ready, one item stays queued; of two free locks, one stays free", async () => {
    const got = await run(function* () {
      const a = new Queue<string>(), b = new Queue<string>();
      yield* a.put("a1");
      yield* b.put("b1");
      const item = yield* race([a.get(), b.get()]);
      const la = new Lock("a"), lb = new Lock("b");
      yield* race([la.acquire(), lb.acquire()]);
      return { item, queued: a.size + b.size, held: [la.locked, lb.locked] };
    });
    // Before: both gets and both acquires ran; b1 was dropped and both locks stayed held by no one.
    expect(got).toEqual({ item: "a1", queued: 1, held: [true, false] });
  });

  test("race never starts an operation whose turn comes after the winner finished", async () => {
    const log: string[] = [];
    await run(function* () {
      const op = (name: string) => (function* () {
        log.push(`${name} runs`);
        return name;
      })();
      expect(yield* race([op("first"), op("second")])).toBe("first");
    });
    expect(log).toEqual(["first runs"]);
  });
});
