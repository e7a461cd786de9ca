// The real clock with deadlines beyond what one Node timer can hold.
import { expect, test } from "vitest";
import { action, Event, moveOnAfter, RealClock, run, sleep, spawn, start, timeout, VirtualClock, type Task } from "@skein/core";

test("a sleep longer than a Node timer's limit (or forever) arms no 1 ms timer loop and warns nothing", async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on("warning", onWarning);
  try {
    await run(function* () {
      const long = yield* spawn(sleep(3e9)); // 34 days
      const forever = yield* spawn(sleep(Infinity));
      yield* sleep(100);
      expect([long.blockedOn, forever.blockedOn]).toEqual(["sleep(3000000000)", "sleep(Infinity)"]);
      long.cancel();
      forever.cancel();
    });
    await new Promise((r) => setImmediate(r)); // warnings are emitted on a later tick
  } finally {
    process.off("warning", onWarning);
  }
  // Node clamps a longer delay to 1 ms with a TimeoutOverflowWarning: the
  // old clock re-armed about once a millisecond, ~100 warnings here.
  expect(warnings).toEqual([]);
});

test("a duration that is not a number is a RangeError, not a timer that stalls every other one", async () => {
  const got = await run(function* () {
    const errors: string[] = [];
    for (const op of [() => sleep(Number.NaN), () => timeout(Number.NaN, sleep(1)), () => moveOnAfter(undefined as unknown as number, sleep(1))]) {
      try {
        yield* op();
      } catch (e) {
        errors.push((e as Error).name);
      }
    }
    // An unrelated timer still fires on time.
    const t0 = performance.now();
    yield* sleep(20);
    return { errors, late: performance.now() - t0 > 1000 };
  });
  expect(got).toEqual({ errors: ["RangeError", "RangeError", "RangeError"], late: false });
});

test("VirtualClock refuses time going backwards or to NaN, and a second kernel while the first has timers", async () => {
  const clock = new VirtualClock();
  expect(() => clock.advance(-5)).toThrow(RangeError);
  expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
  expect(() => new VirtualClock({ startMs: Number.NaN })).toThrow(RangeError);
  expect(clock.now()).toBe(0);
  const first = run(sleep(100), { clock });
  // Before: the second kernel's wake-up replaced the first's, whose sleep never ended.
  await expect(run(sleep(50), { clock })).rejects.toThrow(/another kernel/);
  clock.advance(100);
  await first;
});

test("a RealClock passed to a second kernel while the first has timers is refused, not silently taken over", async () => {
  const clock = new RealClock();
  const first = run(sleep(30), { clock });
  // Before: the second kernel's wake-up replaced the first's, whose sleep never ended.
  await expect(run(sleep(10), { clock })).rejects.toThrow(/another kernel/);
  await first;
  await run(sleep(1), { clock }); // free again once the first has no timer
});

test("VirtualClock's auto-jump waits for tasks still ready after one wake-up made more than the kernel runs in one go", async () => {
  const clock = new VirtualClock({ autoJump: true });
  const late = await run(function* () {
    const go = new Event("go");
    let late = 0;
    for (let i = 0; i < 5000; i++) {
      yield* spawn(function* () {
        yield* go.wait();
        if (clock.now() !== 0) late++;
      });
    }
    const timer = yield* spawn(sleep(1000)); // the next deadline the clock could jump to
    // An idle moment queues a jump; then one wake-up readies all 5000.
    yield* action<void>("a tick of I/O", (resolve) => {
      const h = setImmediate(resolve);
      return () => clearImmediate(h);
    });
    go.set();
    yield* sleep(0);
    yield* moveOnAfter(2000, timer);
    return late;
  }, { clock });
  expect(late).toBe(0); // before: about 900 ran at virtual time 1000
});

test("VirtualClock.advance runs every task a deadline wakes before time moves on, more than the kernel runs in one go", async () => {
  const clock = new VirtualClock();
  let late = 0;
  const { promise } = start(function* () {
    for (let i = 0; i < 5000; i++) {
      yield* spawn(function* () {
        yield* sleep(10);
        if (clock.now() !== 10) late++;
      });
    }
    yield* sleep(20);
  }, { clock });
  clock.advance(30);
  await promise;
  expect(late).toBe(0); // before: about 900 ran after advance() had returned, at 20
});

test("VirtualClock.jump goes to the next live deadline when the earliest was cancelled", async () => {
  const clock = new VirtualClock();
  let wokeAt = -1;
  let first: Task<void> | undefined;
  const { promise } = start(function* () {
    first = yield* spawn(sleep(100));
    yield* spawn(function* () {
      yield* sleep(500);
      wokeAt = clock.now();
    });
  }, { clock });
  first!.cancel();
  expect(clock.jump()).toBe(true);
  expect([clock.now(), wokeAt]).toEqual([500, 500]); // before: 100, and nothing woke
  await promise;
});
