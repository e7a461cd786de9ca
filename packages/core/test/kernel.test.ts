import { describe, expect, test } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { runChild } from "./support/child.js";
import { all, call, cancel, Cancelled, currentTask, end, Event, join as joinTask, Queue, run, sleep, spawn, VirtualClock, wait, yieldNow, type Operation } from "@skein/core";

describe("the kernel", () => {
  test("runs spawned tasks in FIFO order, interleaving at each yield point", async () => {
    const log: string[] = [];
    function* worker(name: string): Operation<void> {
      for (let i = 0; i < 3; i++) {
        log.push(`${name}${i}`);
        yield* yieldNow();
      }
    }
    await run(function* () {
      yield* spawn(worker("a"));
      yield* spawn(worker("b"));
    });
    expect(log).toEqual(["a0", "b0", "a1", "b1", "a2", "b2"]);
  });

  test("accepts the seeds' plain yields: yield op, yield generator, yield null, end(value)", async () => {
    const clock = new VirtualClock({ autoJump: true });
    function* add(a: number, b: number): Generator<unknown, number, any> {
      yield sleep(10); // plain yield of an instruction
      return a + b;
    }
    function* early(): Generator<unknown, string, any> {
      yield end("ended");
      return "not reached";
    }
    const result = await run(function* () {
      const sum = (yield add(1, 2)) as number; // Bluelet's call by yielding a generator
      yield null; // let others run
      const viaCall = yield* call(add(3, 4));
      const ended = (yield early()) as string;
      return [sum, viaCall, ended, clock.now()];
    }, { clock });
    expect(result).toEqual([3, 7, "ended", 20]);
  });

  test("end(value) runs the coroutine's finally blocks", async () => {
    const log: string[] = [];
    const out = await run(function* () {
      try {
        yield end(5);
      } finally {
        log.push("finally");
      }
      return 0;
    });
    expect(out).toBe(5);
    expect(log).toEqual(["finally"]);
  });

  test("a yielded Promise throws a TypeError naming the fix", async () => {
    const err = await run(function* () {
      try {
        yield Promise.resolve(1) as never;
      } catch (e) {
        return e;
      }
    });
    expect(err).toBeInstanceOf(TypeError);
    expect(String((err as Error).message)).toContain("yield* wait(promise)");
  });

  test("yielding a number or a function throws a TypeError at the yield point", async () => {
    const errs = await run(function* () {
      const out: unknown[] = [];
      for (const bad of [42, () => 1, "text"]) {
        try {
          yield bad as never;
        } catch (e) {
          out.push(e);
        }
      }
      return out;
    });
    expect(errs).toHaveLength(3);
    for (const e of errs) expect(e).toBeInstanceOf(TypeError);
  });

  test("an operation value serves one wait at a time: again after it completed, a TypeError while a task still waits on it", async () => {
    const clock = new VirtualClock({ autoJump: true });
    const tick = sleep(10);
    const outcome = await run(
      function* () {
        for (let i = 0; i < 3; i++) yield* tick; // one after the other: fine
        const after = clock.now();
        const first = yield* spawn(function* () {
          yield* tick;
        });
        yield* sleep(1); // first now waits on tick
        const errors: unknown[] = [];
        try {
          yield* tick;
        } catch (e) {
          errors.push(e);
        }
        try {
          yield tick; // the seeds' plain yield
        } catch (e) {
          errors.push(e);
        }
        yield* joinTask(first); // the first waiter still wakes
        return { after, errors, end: clock.now() };
      },
      { clock },
    );
    expect(outcome.after).toBe(30);
    expect(outcome.end).toBe(40);
    expect(outcome.errors).toHaveLength(2);
    for (const e of outcome.errors) expect(String((e as Error).message)).toMatch(/^sleep\(10\) is already being waited on/);
  });

  test("one operation value given as the body of two tasks is refused for the second (all([get, get]) would lose an item)", async () => {
    const clock = new VirtualClock({ autoJump: true });
    const outcome = await run(
      function* () {
        const q = new Queue<number>();
        const get = q.get();
        const seen: string[] = [];
        try {
          yield* all([get, get]);
        } catch (e) {
          seen.push(`all: ${(e as Error).message}`);
        }
        const tick = sleep(10);
        const first = yield* spawn(tick);
        try {
          yield* spawn(tick); // the first task has not run yet: still refused
        } catch (e) {
          seen.push(`spawn: ${(e as Error).message}`);
        }
        yield* joinTask(first);
        const again = yield* spawn(tick); // its task finished with it: free again
        yield* joinTask(again);
        const never = yield* spawn(get);
        never.cancel(); // cancelled before it ran: the value is free again too
        yield* yieldNow();
        const later = yield* spawn(get);
        yield* q.put(7);
        seen.push(`got ${yield* joinTask(later)}`, `now ${clock.now()}`);
        return seen;
      },
      { clock },
    );
    expect(outcome).toEqual([
      expect.stringMatching(/^all: queue\.get\(\) is already being waited on/),
      expect.stringMatching(/^spawn: sleep\(10\) is already being waited on/),
      "got 7",
      "now 20",
    ]);
  });

  test("an operation from a second copy of @skein/core fails with a TypeError saying so, instead of hanging", async () => {
    const other = await loadSecondCopy();
    const outcome = await run(function* () {
      const seen: string[] = [];
      try {
        yield* other.sleep(1);
        seen.push("slept");
      } catch (e) {
        seen.push(e instanceof TypeError ? e.message : `not a TypeError: ${String(e)}`);
      }
      try {
        other.currentTaskSync();
        seen.push("found a task");
      } catch (e) {
        seen.push(e instanceof TypeError ? e.message : `not a TypeError: ${String(e)}`);
      }
      return seen;
    });
    expect(outcome).toHaveLength(2);
    expect(outcome[0]).toMatch(/^a Skein task yielded sleep\(1\) made by another copy of @skein\/core: \d+ copies of @skein\/core are loaded/);
    expect(outcome[1]).toMatch(/^not inside a Skein task: .*: \d+ copies of @skein\/core are loaded in this process/);
    for (const message of outcome) expect(message).toContain("Install one version");
  });

  test("wait(promise) bridges to promises, values and rejections alike", async () => {
    const out = await run(function* () {
      const v = yield* wait(Promise.resolve(41));
      let reason: unknown;
      try {
        yield* wait(Promise.reject(new Error("no")));
      } catch (e) {
        reason = e;
      }
      return [v + 1, (reason as Error).message];
    });
    expect(out).toEqual([42, "no"]);
  });

  test("a task that never blocks cannot starve the others", async () => {
    const log: string[] = [];
    await run(function* () {
      const q = new Queue<number>();
      const busy = yield* spawn(function* () {
        // Every put completes at once: without a budget this loop would run to the end first.
        for (let i = 0; i < 10_000; i++) yield* q.put(i);
        log.push("busy done");
      });
      yield* spawn(function* () {
        log.push("other ran");
      });
      yield* busy;
    });
    expect(log).toEqual(["other ran", "busy done"]);
  });

  test("a nested kernel run from inside a task does not refill the outer task's budget", async () => {
    const log: string[] = [];
    await run(function* () {
      const q = new Queue<number>();
      const busy = yield* spawn(function* () {
        for (let i = 0; i < 10_000; i++) {
          yield* q.put(i);
          // A second kernel drains synchronously here; its steps must not
          // leave this task with a fresh budget, or the loop never yields.
          void run(function* () {});
        }
        log.push("busy done");
      });
      yield* spawn(function* () {
        log.push("other ran");
      });
      yield* busy;
    });
    expect(log).toEqual(["other ran", "busy done"]);
  });

  test("an operation that could complete at once is still a cancellation checkpoint", async () => {
    const q = new Queue<number>();
    const log: string[] = [];
    await run(function* () {
      const t = yield* spawn(function* () {
        (yield* currentTask()).cancel();
        try {
          yield* q.put(1); // room in the queue: without the checkpoint this would just put
          log.push("put");
        } catch (e) {
          log.push(e instanceof Cancelled ? "Cancelled" : String(e));
        }
      });
      yield* cancel(t);
    });
    expect(log).toEqual(["Cancelled"]);
    expect(q.size).toBe(0);
  });

  test("an operation that fails at once throws at its yield*, where the task can catch it", async () => {
    const out = await run(function* () {
      const q = new Queue<number>(1, "jobs");
      q.close();
      try {
        yield* q.put(1);
      } catch (e) {
        return (e as { code?: string }).code;
      }
    });
    expect(out).toBe("SKEIN_ERR_CLOSED");
  });

  // A driver that takes an operation's first step itself and yields later
  // (http takes a handler's first step this way) leaves a window between the
  // instruction's inline entry and the task's suspension.
  function drivenBy<T>(op: Operation<T>, between: () => void): Operation<T> {
    return {
      [Symbol.iterator]() {
        const it = op[Symbol.iterator]();
        let first = true;
        return {
          next(v?: unknown) {
            if (!first) return it.next(v);
            first = false;
            const r = it.next();
            if (r.done !== true) between();
            return r;
          },
          throw(e: unknown) {
            return it.throw!(e);
          },
        };
      },
    };
  }

  test("a wait completed between its inline entry and the yield resumes the task", async () => {
    const ev = new Event();
    const out = await run(function* () {
      yield* drivenBy(ev.wait(), () => ev.set());
      return "resumed";
    });
    expect(out).toBe("resumed");
  }, 2000);

  test("a task cancelled between an inline entry and the yield gets Cancelled", async () => {
    const ev = new Event();
    const log: string[] = [];
    await run(function* () {
      const t = yield* spawn(function* () {
        const me = yield* currentTask();
        try {
          yield* drivenBy(ev.wait(), () => me.cancel());
          log.push("woke");
        } catch (e) {
          log.push(e instanceof Cancelled ? "Cancelled" : String(e));
        }
      });
      // Nobody sets the event or cancels again: the cancellation must arrive by itself.
      yield* joinTask(t);
    });
    expect(log).toEqual(["Cancelled"]);
  }, 2000);

  test("end() returns from the coroutine even when its operation completes at once", async () => {
    const out = await run(function* () {
      const r = yield sub();
      return r;
    });
    function* sub(): Generator<unknown, number, any> {
      yield* end(7); // entered by the kernel: returning from a frame cannot happen inside it
      return 0;
    }
    expect(out).toBe(7);
  });

  test("resumes a task synchronously from the callback that unblocks it", async () => {
    const order: string[] = [];
    await run(function* () {
      const ev = new Event();
      yield* spawn(function* () {
        yield* ev.wait();
        order.push("woken");
      });
      yield* yieldNow();
      setTimeout(() => {
        order.push("before set");
        ev.set();
        order.push("after set"); // the waiter ran inside set()
      }, 1);
      yield* sleep(5);
    });
    expect(order).toEqual(["before set", "woken", "after set"]);
  });

  test("reports a deadlock instead of hanging when nothing can wake any task", async () => {
    // Detection rides on the process running out of work, so it runs in a real child process.
    const result = await runChild(`
      import { run, Queue, DeadlockError } from "@skein/core";
      run(function* () { yield* new Queue<number>(10, "jobs").get(); }).catch((e) => {
        console.log(e instanceof DeadlockError, e.code);
        console.log(e.message);
      });
    `);
    expect(result.stdout).toContain("true SKEIN_ERR_DEADLOCK");
    expect(result.stdout).toContain("main: jobs.get()");
    expect(result.code).toBe(0);
  });

  test("a deadlock among many tasks in a deep tree is reported in 50 lines and a count, in spawn order", async () => {
    const result = await runChild(`
      import { join, run, spawn, Queue } from "@skein/core";
      const q = new Queue<number>(1, "never");
      function* chain(depth: number): Generator<unknown, void, any> {
        if (depth === 0) return void (yield* q.get());
        yield* join(yield* spawn(chain(depth - 1), { name: "level-" + (depth - 1) }));
      }
      run(function* () {
        yield* spawn(q.get(), { name: "first" });
        yield* chain(20000);
      }).catch((e) => console.log(e.message.split("\\n").length, e.message.split("\\n").slice(1, 3).join("|"), e.message.split("\\n").at(-1)));
    `);
    // 20,002 tasks: main, first, and 20,000 levels under main.
    expect(result.stdout.trim()).toBe("52   main: join(level-19999)|    first: never.get()   … and 19952 more");
    expect(result.code).toBe(0);
  });

  test("run() of something that is not an operation rejects with a TypeError and leaves nothing behind", async () => {
    const result = await runChild(`
      import { run } from "@skein/core";
      run(42 as never).catch((e) => console.log(e instanceof TypeError, process.listenerCount("beforeExit")));
    `);
    expect(result.stdout.trim()).toBe("true 0");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });
});

/** A second, separately bundled copy of @skein/core, as two installed versions would give. */
async function loadSecondCopy(): Promise<typeof import("@skein/core")> {
  const dir = mkdtempSync(join(tmpdir(), "skein-core-copy-"));
  try {
    const outfile = join(dir, "core.mjs");
    const entry = join(dirname(fileURLToPath(import.meta.url)), "../src/index.ts");
    await build({ entryPoints: [entry], outfile, bundle: true, platform: "node", format: "esm", logLevel: "warning" });
    return (await import(pathToFileURL(outfile).href)) as typeof import("@skein/core");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
