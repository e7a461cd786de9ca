import { describe, expect, test } from "vitest";
import { all, moveOnAfter, race, run, shield, sleep, spawn, cancel, timeout, TimeoutError, VirtualClock, Queue, type Operation } from "@skein/core";

const virtual = () => new VirtualClock({ autoJump: true });

describe("timeouts and shields", () => {
  test("timeout throws TimeoutError when the operation overruns, after its finally ran", async () => {
    const clock = virtual();
    const log: string[] = [];
    const err = await run(function* () {
      try {
        yield* timeout(30_000, (function* () {
          try {
            yield* sleep(60_000);
          } finally {
            log.push(`inner finally at ${clock.now()}`);
          }
        })());
      } catch (e) {
        return e;
      }
    }, { clock });
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe("SKEIN_ERR_TIMEOUT");
    expect(log).toEqual(["inner finally at 30000"]);
  });

  test("timeout returns the value when the operation finishes in time, and leaves no timer", async () => {
    await run(function* () {
      const v = yield* timeout(100, (function* () {
        yield* sleep(10);
        return "ok";
      })());
      expect(v).toBe("ok");
    }, { clock: virtual() });
  });

  test("moveOnAfter returns undefined instead of throwing", async () => {
    const clock = virtual();
    const out = await run(function* () {
      const q = new Queue<string>();
      const a = yield* moveOnAfter(50, q.get());
      q.tryPut("x");
      const b = yield* moveOnAfter(50, q.get());
      return [a, b, clock.now()];
    }, { clock });
    expect(out).toEqual([undefined, "x", 50]);
  });

  test("nested deadlines: the earlier one wins, whichever is outer", async () => {
    const clock = virtual();
    const out = await run(function* () {
      const r: string[] = [];
      try {
        yield* timeout(100, timeout(5_000, sleep(10_000)));
      } catch (e) {
        r.push(`outer fired: ${(e as TimeoutError).timeoutMs} at ${clock.now()}`);
      }
      try {
        yield* timeout(5_000, timeout(100, sleep(10_000)));
      } catch (e) {
        r.push(`inner fired: ${(e as TimeoutError).timeoutMs} at ${clock.now()}`);
      }
      return r;
    }, { clock });
    expect(out).toEqual(["outer fired: 100 at 100", "inner fired: 100 at 200"]);
  });

  test("an inner moveOnAfter does not swallow an outer timeout", async () => {
    const clock = virtual();
    const err = await run(function* () {
      try {
        yield* timeout(10, moveOnAfter(1000, sleep(5000)));
      } catch (e) {
        return e;
      }
    }, { clock });
    expect(err).toBeInstanceOf(TimeoutError);
  });

  test("shield defers an outside cancellation until the section is done", async () => {
    const clock = virtual();
    const log: string[] = [];
    await run(function* () {
      const t = yield* spawn(function* () {
        yield* shield((function* () {
          yield* sleep(100);
          log.push(`shielded work done at ${clock.now()}`);
        })());
        yield* sleep(1); // the first yield point after the shield delivers the cancel
        log.push("not reached");
      });
      yield* sleep(10);
      yield* cancel(t);
      log.push(`cancelled at ${clock.now()}`);
    }, { clock });
    expect(log).toEqual(["shielded work done at 100", "cancelled at 100"]);
  });

  test("a shield protects tasks started inside it (all, race, spawn) until it closes", async () => {
    const clock = virtual();
    const log: string[] = [];
    function* work(name: string, ms: number): Operation<string> {
      yield* sleep(ms);
      log.push(`${name} done at ${clock.now()}`);
      return name;
    }
    await run(function* () {
      const t = yield* spawn(function* () {
        try {
          yield* shield((function* () {
            const both = yield* all([work("a", 50), work("b", 100)]);
            const first = yield* race([work("fast", 10), work("slow", 500)]);
            log.push(`shielded: ${both.join("+")}, ${first} at ${clock.now()}`);
            yield* spawn(work("outliver", 1000)); // still running when the shield closes
          })());
          yield* sleep(1);
          log.push("not reached");
        } finally {
          log.push(`cancelled at ${clock.now()}`);
        }
      });
      yield* sleep(5);
      yield* cancel(t);
      log.push(`cancel returned at ${clock.now()}`);
    }, { clock });
    // The slow race loser is cancelled by race itself; the task spawned inside
    // the shield meets the cancellation when the shield closes, not later.
    expect(log).toEqual(["a done at 50", "b done at 100", "fast done at 110", "shielded: a+b, fast at 110", "cancelled at 110", "cancel returned at 110"]);
  });

  test("a deadline inside a shield still applies", async () => {
    const err = await run(function* () {
      try {
        yield* shield(timeout(10, sleep(1000)));
      } catch (e) {
        return e;
      }
    }, { clock: virtual() });
    expect(err).toBeInstanceOf(TimeoutError);
  });

  test("a cancellation from outside wins over an inner deadline that passes during cleanup: the task ends cancelled, no TimeoutError", async () => {
    const out = await run(function* () {
      const worker = yield* spawn(function* () {
        yield* timeout(1000, (function* () {
          try {
            yield* sleep(1e9);
          } finally {
            yield* sleep(50); // cleanup, still inside the timed region
          }
        })());
      }, { name: "worker" });
      const sibling = yield* spawn(function* () {
        yield* sleep(5000);
        return "sibling finished";
      });
      yield* sleep(990);
      yield* cancel(worker); // the deadline passes during the worker's cleanup
      return [worker.isCancelled, yield* sibling];
    }, { clock: virtual() });
    expect(out).toEqual([true, "sibling finished"]);
  });

  test("a pending task cancellation is not turned into the inner timeout's TimeoutError or moveOnAfter's undefined", async () => {
    for (const scoped of [(op: Operation<void>) => timeout(100, op), (op: Operation<void>) => moveOnAfter(100, op)]) {
      const seen: unknown[] = [];
      await run(function* () {
        const worker = yield* spawn(function* () {
          try {
            // The deadline passes inside the shield (100), the task is cancelled at 120, the shield closes at 150.
            yield* scoped((function* () {
              yield* shield(sleep(150));
              yield* sleep(1e9);
            })());
            seen.push("moved on");
          } catch (e) {
            seen.push((e as Error).name);
            throw e;
          }
        });
        yield* sleep(120);
        yield* cancel(worker);
      }, { clock: virtual() });
      expect(seen).toEqual(["Cancelled"]);
    }
  });

  test("cleanup of a cancelled task keeps its own deadlines: a moveOnAfter opened in finally moves on, and the code after it runs", async () => {
    const log: string[] = [];
    await run(function* () {
      const worker = yield* spawn(function* () {
        try {
          yield* sleep(1e9);
        } finally {
          // As a cluster primary does: wait a while for workers, then force.
          const r = yield* moveOnAfter(50, sleep(1e9));
          log.push(`waited: ${String(r)}`);
          try {
            yield* timeout(50, sleep(1e9));
          } catch (e) {
            log.push((e as Error).name);
          }
          log.push("forced");
        }
      });
      yield* sleep(10);
      yield* cancel(worker);
    }, { clock: virtual() });
    expect(log).toEqual(["waited: undefined", "TimeoutError", "forced"]);
  });

  test("a Promise or an uncalled generator function given to timeout, moveOnAfter or shield is a TypeError saying what to write", async () => {
    function* child(): Operation<number> {
      return 1;
    }
    const messages = await run(function* () {
      const out: string[] = [];
      const bad = [Promise.resolve(1), child] as unknown as Operation<number>[];
      for (const op of bad) {
        for (const wrap of [() => timeout(10, op), () => moveOnAfter(10, op), () => shield(op)]) {
          try {
            yield* wrap();
          } catch (e) {
            out.push((e as Error).message);
          }
        }
      }
      return out;
    });
    expect(messages).toHaveLength(6);
    expect(messages.slice(0, 3).every((m) => m.includes("a Promise") && m.includes("yield* wait(promise)"))).toBe(true);
    expect(messages.slice(3).every((m) => m.includes("a function. Call it"))).toBe(true);
    expect(messages.map((m) => m.split(" was given")[0])).toEqual(["timeout()", "moveOnAfter()", "shield()", "timeout()", "moveOnAfter()", "shield()"]);
  });
});
