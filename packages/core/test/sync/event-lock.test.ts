import { describe, expect, test } from "vitest";
import { Event, Lock, run, Semaphore, sleep, spawn, VirtualClock, type Task } from "@skein/core";

const virtual = () => new VirtualClock({ autoJump: true });

describe("Event", () => {
  test("set wakes every waiter; waits on a set event return at once until clear", async () => {
    const log: string[] = [];
    await run(function* () {
      const ev = new Event();
      for (const n of ["a", "b"]) {
        yield* spawn(function* () {
          yield* ev.wait();
          log.push(n);
        });
      }
      yield* sleep(1);
      expect(ev.waiting).toBe(2);
      ev.set();
      yield* sleep(1);
      yield* ev.wait();
      log.push("immediate");
      ev.clear();
      expect(ev.isSet).toBe(false);
    }, { clock: virtual() });
    expect(log).toEqual(["a", "b", "immediate"]);
  });
});

describe("Lock and Semaphore", () => {
  test("a lock admits one holder at a time, in arrival order", async () => {
    const log: string[] = [];
    await run(function* () {
      const lock = new Lock();
      const tasks: Task<void>[] = [];
      for (const n of ["a", "b", "c"]) {
        tasks.push(
          yield* spawn(lock.with((function* () {
            log.push(`${n} in`);
            yield* sleep(10);
            log.push(`${n} out`);
          })())),
        );
      }
      for (const t of tasks) yield* t;
    }, { clock: virtual() });
    expect(log).toEqual(["a in", "a out", "b in", "b out", "c in", "c out"]);
  });

  test("a semaphore bounds concurrency and returns permits even on error", async () => {
    let active = 0;
    let peak = 0;
    const sem = await run(function* () {
      const sem = new Semaphore(3);
      for (let i = 0; i < 10; i++) {
        yield* spawn(function* () {
          try {
            yield* sem.with((function* () {
              active++;
              peak = Math.max(peak, active);
              yield* sleep(5);
              active--;
              if (i === 4) throw new Error("inside");
            })());
          } catch {
            // the permit must still come back
          }
        });
      }
      yield* sleep(1000);
      return sem;
    }, { clock: virtual() });
    expect(peak).toBe(3);
    expect(sem.available).toBe(3);
    expect(() => sem.release()).toThrow(RangeError);
  });
});
