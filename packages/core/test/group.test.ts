import { describe, expect, test } from "vitest";
import { all, group, race, run, runAll, sleep, VirtualClock } from "@skein/core";

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
});
