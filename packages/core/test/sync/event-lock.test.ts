import { describe, expect, test } from "vitest";
import { all, Event, Lock, moveOnAfter, Queue, race, run, runAll, Semaphore, sleep, spawn, VirtualClock, type Task } from "@skein/core";

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

/** Has an unrelated task try to release `lock`: "released", or the error code it got. */
function* releaseFromAnotherTask(lock: Lock): Generator<unknown, string | undefined, any> {
  const other = yield* spawn(function* () {
    try {
      lock.release();
      return "released";
    } catch (e) {
      return (e as { code?: string }).code;
    }
  });
  return yield* other;
}

describe("bad use", () => {
  test("Event.set() from outside a task wakes only the tasks waiting then: one that clears and waits again waits for the next set", async () => {
    const log: string[] = [];
    const ev = new Event("outside");
    const done = run(function* () {
      yield* spawn(function* () {
        yield* ev.wait();
        log.push(`woke, isSet=${ev.isSet}`);
        ev.clear();
        yield* ev.wait();
        log.push(`woke again, isSet=${ev.isSet}`);
      });
      yield* sleep(20);
    });
    await new Promise((r) => setTimeout(r, 5));
    ev.set(); // from a timer callback: outside any task
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(["woke, isSet=true"]);
    ev.set();
    await done;
    expect(log).toEqual(["woke, isSet=true", "woke again, isSet=true"]);
  });

  test("Lock.release() by a task that does not hold it throws SKEIN_ERR_NOT_LOCK_OWNER and changes nothing", async () => {
    const got = await run(function* () {
      const lock = new Lock("l");
      yield* lock.acquire();
      const verdict = yield* releaseFromAnotherTask(lock);
      const state = [lock.locked, lock.owner?.name];
      lock.release();
      return { verdict, state, after: lock.locked };
    }, { name: "holder" });
    expect(got).toEqual({ verdict: "SKEIN_ERR_NOT_LOCK_OWNER", state: [true, "holder"], after: false });
  });

  test("a Lock taken through race() or all() is the caller's to release; a Semaphore(Infinity) takes any number of releases", async () => {
    const got = await run(function* () {
      const lock = new Lock("l");
      yield* race([lock.acquire(), sleep(100)]);
      const afterRace = lock.locked;
      lock.release();
      yield* all([lock.acquire()]);
      lock.release();
      const sem = new Semaphore(Infinity);
      yield* sem.acquire();
      sem.release();
      const ran = yield* runAll([sleep(1), sleep(1)], { concurrency: Infinity });
      return { afterRace, free: !lock.locked, ran };
    });
    // Before: the permit belonged to race's finished child and release() threw SKEIN_ERR_NOT_LOCK_OWNER; Semaphore(Infinity).release() threw RangeError.
    expect(got).toEqual({ afterRace: true, free: true, ran: 2 });
  });

  test("a Lock taken through all() is refused to an unrelated task, even after all's child ended", async () => {
    const got = await run(function* () {
      const lock = new Lock("l");
      yield* all([lock.acquire()]);
      const verdict = yield* releaseFromAnotherTask(lock);
      const held = lock.locked;
      lock.release();
      return { verdict, held };
    });
    expect(got).toEqual({ verdict: "SKEIN_ERR_NOT_LOCK_OWNER", held: true });
  });

  test("one acquire() value retried after each timeout is one waiter, at the back: counts stay true and the lock is not lost", async () => {
    const outcome = await run(function* () {
      const lock = new Semaphore(1);
      yield* lock.acquire(); // held by this task
      const order: string[] = [];
      const retrier = yield* spawn(function* () {
        const acquire = lock.acquire(); // one value, retried
        for (let i = 0; i < 40; i++) {
          const got = yield* moveOnAfter(1, acquire); // 40: past the list's compaction at 32 dead
          if (got !== undefined) throw new Error("acquired while held");
        }
        const other = yield* spawn(function* () {
          yield* lock.acquire();
          order.push("other");
          lock.release();
        });
        yield* sleep(1); // other waits now, ahead of the retry below
        const waitingOther = lock.waiting;
        yield* acquire;
        order.push("retrier");
        lock.release();
        yield* other;
        return waitingOther;
      });
      yield* sleep(100);
      const waitingBeforeRelease = lock.waiting;
      lock.release();
      const waitingOther = yield* retrier;
      return { waitingBeforeRelease, waitingOther, order, waitingAfter: lock.waiting, available: lock.available };
    }, { clock: virtual() });
    expect(outcome).toEqual({ waitingBeforeRelease: 2, waitingOther: 1, order: ["other", "retrier"], waitingAfter: 0, available: 1 });
  });

  test("an acquire() or get() value yielded plainly by a second task while the first waits on it is a TypeError; the first still gets its turn", async () => {
    const outcome = await run(function* () {
      const q = new Queue<number>();
      const get = q.get();
      const first = yield* spawn(function* () {
        return (yield get) as number;
      });
      yield* sleep(1);
      let refused: unknown;
      try {
        yield get;
      } catch (e) {
        refused = e;
      }
      yield* q.put(5);
      return { got: yield* first, refused };
    }, { clock: virtual() });
    expect(outcome.got).toBe(5);
    expect(outcome.refused).toBeInstanceOf(TypeError);
    expect(String(outcome.refused)).toMatch(/queue\.get\(\) is already being waited on/);
  });

  test("a Semaphore or Queue size that is not a whole number is a RangeError", () => {
    expect(() => new Semaphore(1.5)).toThrow(RangeError);
    expect(() => new Semaphore(Number.NaN)).toThrow(RangeError);
    expect(() => new Queue(1.5)).toThrow(RangeError);
    expect(new Semaphore(Infinity).available).toBe(Infinity);
    expect(new Queue(0).capacity).toBe(0);
  });
});
