// The real clock with deadlines beyond what one Node timer can hold.
import { expect, test } from "vitest";
import { run, sleep, spawn } from "@skein/core";

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
