import { describe, expect, test } from "vitest";
import { cancel, ClosedError, moveOnAfter, run, signal, signals, sleep, spawn, VirtualClock } from "@skein/core";

describe("signal", () => {
  test("returns when the signal is delivered, and removes its listener", async () => {
    const before = process.listenerCount("SIGUSR2");
    const got = await run(function* () {
      const waiter = yield* spawn(signal("SIGUSR2"));
      yield* sleep(0); // let the waiter install its listener
      expect(process.listenerCount("SIGUSR2")).toBe(before + 1);
      process.kill(process.pid, "SIGUSR2");
      return yield* waiter;
    });
    expect(got).toBe("SIGUSR2");
    expect(process.listenerCount("SIGUSR2")).toBe(before);
  });

  test("cancelling the wait removes the listener", async () => {
    const before = process.listenerCount("SIGUSR2");
    const clock = new VirtualClock({ autoJump: true });
    const log: string[] = [];
    await run(
      function* () {
        const got = yield* moveOnAfter(1000, signal("SIGUSR2"));
        log.push(`timed out: ${got === undefined}`);
        const t = yield* spawn(signal("SIGUSR2"));
        yield* sleep(0);
        log.push(`listening: ${process.listenerCount("SIGUSR2") - before}`);
        yield* cancel(t);
        log.push(`after cancel: ${process.listenerCount("SIGUSR2") - before}`);
      },
      { clock },
    );
    expect(log).toEqual(["timed out: true", "listening: 1", "after cancel: 0"]);
  });

  test("every waiting task receives the same delivery", async () => {
    const got = await run(function* () {
      const a = yield* spawn(signal("SIGUSR2"));
      const b = yield* spawn(signal("SIGUSR2"));
      yield* sleep(0);
      process.kill(process.pid, "SIGUSR2");
      return [yield* a, yield* b];
    });
    expect(got).toEqual(["SIGUSR2", "SIGUSR2"]);
  });

  test("a waiting task gets every delivery, even one right after another (only main ignores echoes)", async () => {
    const got = await run(function* () {
      let n = 0;
      const counter = yield* spawn(function* () {
        for (;;) {
          yield* signal("SIGUSR2");
          n++;
        }
      });
      for (let i = 0; i < 2; i++) {
        yield* sleep(20); // two separate deliveries 20 ms apart, well inside SIGNAL_ECHO_MS
        process.kill(process.pid, "SIGUSR2");
        yield* sleep(10);
      }
      yield* cancel(counter);
      return n;
    });
    expect(got).toBe(2);
  });

  test("a name that is not a catchable signal is a RangeError at the call, and leaves no listener or timer behind", async () => {
    const before = process.listenerCount("SIGINT");
    expect(() => signal("SIGKILL")).toThrow(/cannot be caught/);
    expect(() => signal("SIGNOPE" as NodeJS.Signals)).toThrow(RangeError);
    const outcome = await run(function* () {
      try {
        yield* signal("SIGSTOP");
        return "waited";
      } catch (e) {
        return (e as Error).name;
      }
    });
    expect(outcome).toBe("RangeError");
    expect(process.listenerCount("SIGINT")).toBe(before);
  });

  test("a signals() receiver keeps deliveries nobody waited for (one per signal), listens until closed, and wakes a waiter with ClosedError on close", async () => {
    const before = process.listenerCount("SIGUSR2");
    const log = await run(function* () {
      const out: string[] = [];
      const rx = signals("SIGUSR2", "SIGWINCH");
      out.push(`listening: ${process.listenerCount("SIGUSR2") - before}`);
      process.kill(process.pid, "SIGUSR2");
      process.kill(process.pid, "SIGUSR2");
      process.kill(process.pid, "SIGWINCH");
      yield* sleep(30); // all three arrive while nobody waits in next()
      out.push(`pending: ${rx.pending}`);
      out.push(yield* rx.next(), yield* rx.next());
      const waiter = yield* spawn(function* () {
        try {
          yield* rx.next();
        } catch (e) {
          return e instanceof ClosedError ? "ClosedError" : String(e);
        }
      });
      yield* sleep(0);
      rx.close();
      out.push(String(yield* waiter), `after close: ${process.listenerCount("SIGUSR2") - before}`);
      return out;
    });
    expect(log).toEqual(["listening: 1", "pending: 2", "SIGUSR2", "SIGWINCH", "ClosedError", "after close: 0"]);
  });
});
