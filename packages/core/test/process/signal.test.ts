import { describe, expect, test } from "vitest";
import { cancel, moveOnAfter, run, signal, SIGNAL_ECHO_MS, sleep, spawn, VirtualClock } from "@skein/core";

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
      yield* sleep(SIGNAL_ECHO_MS); // apart from the previous test's delivery, or it counts as its echo
      process.kill(process.pid, "SIGUSR2");
      return [yield* a, yield* b];
    });
    expect(got).toEqual(["SIGUSR2", "SIGUSR2"]);
  });
});
