import { describe, expect, test } from "vitest";
import { cancel, Cancelled, currentTask, Event, join, kill, run, sleep, spawn, TaskCancelledError, VirtualClock, yieldNow } from "@skein/core";

const virtual = () => new VirtualClock({ autoJump: true });

describe("tasks", () => {
  test("join returns a child's result and yield* task does the same", async () => {
    const out = await run(function* () {
      const a = yield* spawn(function* () {
        yield* sleep(5);
        return "a";
      });
      const b = yield* spawn(function* () {
        return "b";
      });
      return [yield* join(a), yield* b];
    }, { clock: virtual() });
    expect(out).toEqual(["a", "b"]);
  });

  test("joining a task that already finished returns its result without suspending, in every style", async () => {
    const log: string[] = [];
    const out = await run(function* () {
      const done = yield* spawn(function* () {
        return 7;
      });
      // A ready task that would run first if joining suspended.
      yield* spawn(function* () {
        yield* yieldNow();
        log.push("other ran");
      });
      expect(join(done)).toBe(done);
      const viaJoin = yield* join(done);
      const viaTask = yield* done;
      const plain = (yield join(done)) as number; // Bluelet style: the finished task is yielded as a sub-coroutine
      log.push("joined");
      return viaJoin + viaTask + plain;
    });
    expect(out).toBe(21);
    expect(log).toEqual(["joined", "other ran"]);
  });

  test("joining a task that finished with an error still rethrows it", async () => {
    const err = await run(function* () {
      const failed = yield* spawn(function* () {
        throw new Error("boom");
      });
      try {
        yield* join(failed);
      } catch (e) {
        return e;
      }
      return null;
    }).catch((e: unknown) => e);
    expect((err as Error).message).toBe("boom");
  });

  test("a task does not finish until its children have (a task is a nursery)", async () => {
    const log: string[] = [];
    await run(function* () {
      yield* spawn(function* () {
        yield* sleep(100);
        log.push("child done");
      });
      log.push("body done");
    }, { clock: virtual() });
    expect(log).toEqual(["body done", "child done"]);
  });

  test("an unjoined child's error cancels its siblings and is rethrown by the parent", async () => {
    const log: string[] = [];
    const err = await run(function* () {
      yield* spawn(function* () {
        try {
          yield* sleep(1000);
        } finally {
          log.push("sibling cancelled");
        }
      });
      yield* spawn(function* () {
        yield* sleep(1);
        throw new Error("child failed");
      });
      try {
        yield* sleep(10_000);
      } finally {
        log.push("parent body cancelled");
      }
    }, { clock: virtual() }).catch((e) => e);
    expect(err.message).toBe("child failed");
    expect(log.sort()).toEqual(["parent body cancelled", "sibling cancelled"]);
  });

  test("concurrent failures arrive together as an AggregateError", async () => {
    const err = await run(function* () {
      for (const name of ["x", "y"]) {
        yield* spawn(function* () {
          yield* sleep(1); // both fail at the same instant
          throw new Error(name);
        });
      }
      yield* sleep(10);
    }, { clock: virtual() }).catch((e) => e);
    expect(err).toBeInstanceOf(AggregateError);
    expect(err.errors.map((e: Error) => e.message).sort()).toEqual(["x", "y"]);
  });

  test("a failure observed by join is handled and does not cancel the parent", async () => {
    const out = await run(function* () {
      const t = yield* spawn(function* () {
        yield* sleep(1);
        throw new Error("handled");
      });
      try {
        yield* join(t);
      } catch (e) {
        return `caught ${(e as Error).message}`;
      }
    }, { clock: virtual() });
    expect(out).toBe("caught handled");
  });

  test("cancel throws Cancelled at the yield point, runs finally blocks, and waits", async () => {
    const log: string[] = [];
    await run(function* () {
      const t = yield* spawn(function* () {
        try {
          yield* sleep(1_000_000);
        } catch (e) {
          log.push(e instanceof Cancelled ? "Cancelled" : "other");
          throw e;
        } finally {
          yield* sleep(5); // cleanup may yield (within the grace period)
          log.push("cleaned up");
        }
      });
      yield* sleep(1);
      yield* cancel(t);
      log.push(`after cancel: ${t.state}`);
    }, { clock: virtual() });
    expect(log).toEqual(["Cancelled", "cleaned up", "after cancel: done"]);
  });

  test("a task cancelling itself gets Cancelled at its next yield, and ends cancelled", async () => {
    const log: string[] = [];
    const outcome = await run(function* () {
      const t = yield* spawn(function* () {
        const me = yield* currentTask();
        yield* cancel(me);
        log.push("cancel(self) returned");
        try {
          yield* sleep(1);
          log.push("not reached");
        } catch (e) {
          log.push(e instanceof Cancelled ? "Cancelled at the next yield" : `other: ${String(e)}`);
          throw e;
        }
      });
      try {
        yield* join(t);
      } catch (e) {
        return e;
      }
    }, { clock: virtual() });
    expect(log).toEqual(["cancel(self) returned", "Cancelled at the next yield"]);
    expect(outcome).toBeInstanceOf(TaskCancelledError);
  });

  test("a task cancelled while it waits in cancel() stops waiting, and the target's end does not touch it", async () => {
    const log: string[] = [];
    await run(function* () {
      const slow = yield* spawn(function* () {
        try {
          yield* sleep(60_000);
        } finally {
          yield* sleep(20); // cleanup that takes a while
          log.push("slow cleaned up");
        }
      });
      const canceller = yield* spawn(function* () {
        try {
          yield* cancel(slow);
          log.push("cancel returned");
        } catch (e) {
          log.push(e instanceof Cancelled ? "canceller cancelled" : `canceller got ${String(e)}`);
          throw e;
        }
      });
      yield* sleep(1);
      yield* cancel(canceller);
      log.push("canceller ended");
      yield* sleep(40);
    }, { clock: virtual() });
    expect(log).toEqual(["canceller cancelled", "canceller ended", "slow cleaned up"]);
  });

  test("joining a cancelled task raises TaskCancelledError", async () => {
    const err = await run(function* () {
      const t = yield* spawn(sleep(100));
      t.cancel();
      return yield* join(t);
    }, { clock: virtual() }).catch((e) => e);
    expect(err).toBeInstanceOf(TaskCancelledError);
    expect(err.code).toBe("SKEIN_ERR_TASK_CANCELLED");
  });

  test("kill is Bluelet's name for cancel", async () => {
    await run(function* () {
      const t = yield* spawn(sleep(1e9));
      yield* kill(t);
      expect(t.isDone).toBe(true);
    }, { clock: virtual() });
  });

  test("cancelling a parent cancels its whole subtree", async () => {
    const log: string[] = [];
    await run(function* () {
      const parent = yield* spawn(function* () {
        yield* spawn(function* () {
          yield* spawn(function* () {
            try {
              yield* sleep(1e9);
            } finally {
              log.push("grandchild");
            }
          });
          try {
            yield* sleep(1e9);
          } finally {
            log.push("child");
          }
        });
        yield* sleep(1e9);
      });
      yield* sleep(1);
      yield* cancel(parent);
    }, { clock: virtual() });
    expect(log.sort()).toEqual(["child", "grandchild"]);
  });

  test("cleanup that overruns the grace period is cancelled again at every yield", async () => {
    const clock = virtual();
    const log: string[] = [];
    await run(function* () {
      const t = yield* spawn(function* () {
        try {
          yield* sleep(1e9);
        } finally {
          try {
            yield* sleep(60_000); // longer than graceMs
            log.push("cleanup finished");
          } catch (e) {
            log.push(`cleanup interrupted at ${clock.now()}`);
          }
        }
      });
      yield* sleep(10);
      yield* cancel(t);
    }, { clock, graceMs: 100 });
    expect(log).toEqual(["cleanup interrupted at 110"]);
  });

  test("a task that is cancelled while ready still receives the value it was woken with", async () => {
    const got: unknown[] = [];
    await run(function* () {
      const ev = new Event();
      const t = yield* spawn(function* () {
        yield* ev.wait();
        got.push("woken");
        yield* yieldNow(); // the cancellation arrives here
        got.push("not reached");
      });
      yield* yieldNow();
      ev.set(); // t is now ready
      t.cancel(); // and cancelled before it runs
      yield* cancel(t);
    });
    expect(got).toEqual(["woken"]);
  });

  test("spawn runs the child at once until it first blocks, then the parent continues", async () => {
    const log: string[] = [];
    await run(function* () {
      yield* spawn(function* () {
        log.push("child starts");
        yield* sleep(1);
        log.push("child resumes");
      });
      log.push("parent continues");
    }, { clock: virtual() });
    expect(log).toEqual(["child starts", "parent continues", "child resumes"]);
  });

  test("a child that fails before blocking cancels the parent at its next yield point", async () => {
    const log: string[] = [];
    const err = await run(function* () {
      yield* spawn(function* () {
        throw new Error("early");
      });
      log.push("parent runs on until its next yield");
      yield* sleep(1);
      log.push("not reached");
    }, { clock: virtual() }).catch((e) => e);
    expect(err.message).toBe("early");
    expect(log).toEqual(["parent runs on until its next yield"]);
  });

  test("deeply recursive spawning does not overflow the stack", async () => {
    function* nest(depth: number): Generator<unknown, number, any> {
      if (depth === 0) return 0;
      const t = yield* spawn(nest(depth - 1));
      return 1 + (yield* t);
    }
    expect(await run(nest(5000))).toBe(5000);
  });

  test("tasks have names and say what they are blocked on", async () => {
    await run(function* () {
      const t = yield* spawn(sleep(50), { name: "napper" });
      yield* yieldNow();
      expect(t.name).toBe("napper");
      expect(t.blockedOn).toBe("sleep(50)");
      const me = yield* currentTask();
      expect(me.name).toBe("main");
      t.cancel();
    }, { clock: virtual() });
  });

  test("a child error the parent joined and rethrew is reported once, not as an AggregateError of itself twice", async () => {
    const err = await run(function* () {
      const t = yield* spawn(function* () {
        yield* sleep(1);
        throw new Error("boom");
      }, { name: "worker" });
      try {
        yield* sleep(100);
      } finally {
        yield* join(t); // rethrows boom, which also cancelled this task
      }
    }, { clock: virtual() }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(AggregateError);
    expect((err as Error).message).toBe("boom");
  });

  test("deep task trees complete and cancel without recursion (20,000 levels)", async () => {
    function* unjoined(depth: number): Generator<unknown, void, any> {
      if (depth === 0) return yield* sleep(1);
      yield* spawn(unjoined(depth - 1)); // returns at once: every level waits for its child
    }
    await run(unjoined(20_000), { clock: virtual() });
    function* joined(depth: number): Generator<unknown, void, any> {
      if (depth === 0) return yield* sleep(1e9);
      yield* join(yield* spawn(joined(depth - 1)));
    }
    const out = await run(function* () {
      const t = yield* spawn(joined(20_000));
      yield* sleep(10);
      yield* cancel(t);
      return t.isCancelled;
    }, { clock: virtual() });
    expect(out).toBe(true);
  });
});
