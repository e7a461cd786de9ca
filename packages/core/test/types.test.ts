// Typed results: `yield*` of an operation has the operation's result type.
// The checks are made by the type checker (`pnpm test` runs tsc over the
// tests first); the test also runs the code, so the values are checked too.
import { describe, expect, expectTypeOf, test } from "vitest";
import { all, race, run, sleep, spawn, Queue, timeout, VirtualClock, type Task } from "@skein/core";

describe("typed results", () => {
  test("yield* of an instruction, a task, race and all gives the result's type, not any", async () => {
    const out = await run(
      function* () {
        const q = new Queue<number>();
        yield* q.put(1);
        const got = yield* q.get();
        expectTypeOf(got).toEqualTypeOf<number>();
        const slept = yield* sleep(1);
        expectTypeOf(slept).toEqualTypeOf<void>();
        const task = yield* spawn(function* () {
          return "done";
        });
        expectTypeOf(task).toEqualTypeOf<Task<string>>();
        const joined = yield* task;
        expectTypeOf(joined).toEqualTypeOf<string>();
        yield* q.put(2);
        const first = yield* race([q.get(), sleep(1000)]);
        expectTypeOf(first).toEqualTypeOf<number | void>();
        yield* q.put(3);
        const both = yield* all([q.get(), timeout(5, sleep(1))]);
        expectTypeOf(both).toEqualTypeOf<[number, void]>();
        return { got, joined, first, both };
      },
      { clock: new VirtualClock({ autoJump: true }) },
    );
    expect(out).toEqual({ got: 1, joined: "done", first: 2, both: [3, undefined] });
  });
});
