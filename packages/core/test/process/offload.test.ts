import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { threadId } from "node:worker_threads";
import { cancel, moveOnAfter, offload, OffloadError, run, sleep, spawn, taskTree, VirtualClock, WorkerPool } from "@skein/core";
import { bundleCore, runScript, type Fixture } from "./child.js";

const pools: WorkerPool[] = [];
const pool = (options: ConstructorParameters<typeof WorkerPool>[0]) => {
  const p = new WorkerPool(options);
  pools.push(p);
  return p;
};
afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
});

const whichThread = () => require("node:worker_threads").threadId as number;

describe("offload", () => {
  test("runs the function on a worker thread with cloned arguments and returns its result", async () => {
    const r = await run(function* () {
      return yield* offload((a: number, b: { xs: number[] }) => ({ sum: a + b.xs.reduce((s, x) => s + x, 0), thread: require("node:worker_threads").threadId as number }), 1, { xs: [2, 3] });
    });
    expect(r.sum).toBe(6);
    expect(r.thread).not.toBe(threadId);
  });

  test("awaits a function that returns a promise", async () => {
    const r = await run(function* () {
      // (Not `await import(...)`: vitest rewrites dynamic imports in test sources; `require` works.)
      return yield* offload(async (s: string) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return require("node:crypto").createHash("sha256").update(s).digest("hex").slice(0, 8) as string;
      }, "skein");
    });
    expect(r).toMatch(/^[0-9a-f]{8}$/);
  });

  test("rethrows the worker's error as an OffloadError with the original name, message, code and stack", async () => {
    const p = pool({ size: 1 });
    const err = await run(function* () {
      try {
        yield* p.run(function explode(n: number) {
          const e = new RangeError(`${n} is too big`) as RangeError & { code: string };
          e.code = "E_TOO_BIG";
          throw e;
        }, 7);
      } catch (e) {
        return e;
      }
    });
    expect(err).toBeInstanceOf(OffloadError);
    const e = err as OffloadError;
    expect(e.code).toBe("SKEIN_ERR_OFFLOAD");
    expect(e.message).toBe("7 is too big");
    expect(e.remoteName).toBe("RangeError");
    expect(e.remoteCode).toBe("E_TOO_BIG");
    expect(e.stack).toMatch(/^RangeError: 7 is too big\n\s+at explode/);
  });

  test("cancelling the waiting task terminates a running job's thread, and a new thread takes its place", async () => {
    const p = pool({ size: 1 });
    const clock = new VirtualClock({ autoJump: true });
    const seen: string[] = [];
    const [first, second] = await run(
      function* () {
        const first = yield* p.run(whichThread);
        const spinner = yield* spawn(p.run(function spin() {
          for (;;);
        }), { name: "spinner" });
        yield* sleep(0);
        seen.push(taskTree(spinner).blockedOn);
        const gone = yield* moveOnAfter(50, spinner);
        seen.push(`moved on: ${gone === undefined}`);
        yield* cancel(spinner);
        seen.push(`threads: ${p.threadCount}`);
        const second = yield* p.run(whichThread);
        return [first, second];
      },
      { clock },
    );
    expect(seen).toEqual(["offload(spin)", "moved on: true", "threads: 0"]);
    expect(second).not.toBe(first);
    expect(p.threadCount).toBe(1);
  });

  test("a queued job whose task is cancelled never runs, and the busy thread is kept", async () => {
    const p = pool({ size: 1 });
    const ran = new Int32Array(new SharedArrayBuffer(4));
    const [a, b] = await run(function* () {
      const slow = yield* spawn(p.run((ms: number) => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
        return require("node:worker_threads").threadId as number;
      }, 50));
      const queued = yield* spawn(p.run((counter: Int32Array) => Atomics.add(counter, 0, 1), ran));
      yield* sleep(0);
      yield* cancel(queued);
      const a = yield* slow;
      const b = yield* p.run(whichThread);
      return [a, b];
    });
    expect(Atomics.load(ran, 0)).toBe(0);
    expect(b).toBe(a);
  });

  test("runs up to `size` jobs at once", async () => {
    const p = pool({ size: 2 });
    const shared = new Int32Array(new SharedArrayBuffer(4));
    const results = await run(function* () {
      const meet = (counter: Int32Array) => {
        // Each job waits until both have arrived: only possible if they run in parallel.
        Atomics.add(counter, 0, 1);
        Atomics.notify(counter, 0);
        const deadline = Date.now() + 10_000;
        let n;
        while ((n = Atomics.load(counter, 0)) < 2 && Date.now() < deadline) Atomics.wait(counter, 0, n, 100);
        return Atomics.load(counter, 0);
      };
      const a = yield* spawn(p.run(meet, shared));
      const b = yield* spawn(p.run(meet, shared));
      return [yield* a, yield* b];
    });
    expect(results).toEqual([2, 2]);
    expect(p.threadCount).toBe(2);
  });

  test("a worker thread that dies fails its job with SKEIN_ERR_WORKER_EXITED and the pool carries on", async () => {
    const p = pool({ size: 1 });
    const [code, after] = await run(function* () {
      let code: string | undefined;
      try {
        yield* p.run(() => process.exit(3));
      } catch (e) {
        code = (e as OffloadError).code;
      }
      return [code, yield* p.run(() => 40 + 2)];
    });
    expect(code).toBe("SKEIN_ERR_WORKER_EXITED");
    expect(after).toBe(42);
  });

  test("arguments or results that cannot be cloned raise DataCloneError", async () => {
    const p = pool({ size: 1 });
    const names = await run(function* () {
      const out: string[] = [];
      try {
        yield* p.run((f: () => void) => typeof f, () => {});
      } catch (e) {
        out.push((e as Error).name);
      }
      try {
        yield* p.run(() => () => 1);
      } catch (e) {
        out.push(`${(e as OffloadError).code} ${(e as OffloadError).remoteName}`);
      }
      return out;
    });
    expect(names).toEqual(["DataCloneError", "SKEIN_ERR_OFFLOAD DataCloneError"]);
  });

  test("refuses native functions, which cannot be sent as source", () => {
    expect(() => offload(Math.sqrt, 4)).toThrow(TypeError);
  });

  test("stops idle threads after idleMs", async () => {
    const p = pool({ size: 2, idleMs: 20 });
    await run(function* () {
      yield* p.run(() => 1);
    });
    expect(p.threadCount).toBe(1);
    await until(() => p.threadCount === 0);
    expect(p.threadCount).toBe(0);
    // and starts again on demand
    expect(await run(p.run((x: number) => x * 2, 21))).toBe(42);
  });

  test("stops the threads left idle after a busy one was cancelled or died", async () => {
    for (const end of ["cancelled", "died"]) {
      const p = pool({ size: 2, idleMs: 50 });
      await run(function* () {
        const quick = yield* spawn(p.run((x: number) => x + 1, 1));
        const busy = yield* spawn(function* () {
          try {
            yield* p.run((how: string) => {
              if (how === "died") setTimeout(() => process.exit(3), 20);
              return new Promise(() => {});
            }, end);
          } catch (e) {
            return e;
          }
        });
        expect(yield* quick).toBe(2); // its thread goes idle, beside the busy one
        yield* sleep(10);
        if (end === "cancelled") yield* cancel(busy);
        else expect(((yield* busy) as OffloadError).code).toBe("SKEIN_ERR_WORKER_EXITED");
      });
      expect(p.threadCount).toBe(1);
      await until(() => p.threadCount === 0, 200);
      expect(p.threadCount).toBe(0); // before: the idle thread stayed for good
    }
  });
});

describe("offload in a program", () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await bundleCore();
  });
  afterAll(() => fx?.cleanup());

  test("idle worker threads do not keep the process alive", async () => {
    const child = runScript(
      fx,
      "offload-exit.mjs",
      `import { run, offload } from CORE;
       const r = await run(function* () { return yield* offload((n) => n + 1, 41); });
       console.log("result " + r);`,
    );
    const { code } = await child.exited;
    expect(child.stdout()).toContain("result 42");
    expect(code).toBe(0);
  });
});

/** Polls `cond` (bounded) — waits for an event, asserts no timing. */
async function until(cond: () => boolean, limit = 500): Promise<void> {
  for (let i = 0; i < limit && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
}
