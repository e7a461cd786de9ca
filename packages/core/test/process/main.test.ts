import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { currentTask, main, SIGNAL_ECHO_MS, sleep, spawn, start, VirtualClock } from "@skein/core";
import { bundleCore, runScript, type Fixture } from "./child.js";

let fx: Fixture;
beforeAll(async () => {
  fx = await bundleCore();
});
afterAll(() => fx?.cleanup());

const sleeper = (signalName: string) => `
import { main, sleep, spawn } from CORE;
await main(function* () {
  yield* spawn(function* () {
    try { yield* sleep(1e9); } finally { console.log("child finally"); }
  }, { name: "worker" });
  try {
    console.log("ready");
    yield* sleep(1e9);
  } finally {
    yield* sleep(5); // cleanup may yield
    console.log("cleanup done after ${signalName}");
  }
});
console.log("not reached: main exits the process");
`;

/** A program whose task takes SIGINT itself, then shuts down gracefully for `ms`. */
const gracefulOnSigint = (ms: number) => `
import { main, signal, sleep } from CORE;
await main(function* () {
  console.log("ready");
  yield* signal("SIGINT");
  console.log("stopping");
  try { yield* sleep(${ms}); console.log("graceful done"); }
  catch (e) { console.log("cut short"); throw e; }
});
`;

describe("main", () => {
  test("SIGTERM cancels the root task: finally blocks run, and the exit code is 0", async () => {
    const child = runScript(fx, "term.mjs", sleeper("SIGTERM"));
    await child.waitFor("ready");
    child.proc.kill("SIGTERM");
    const { code } = await child.exited;
    expect(child.stdout()).toContain("child finally");
    expect(child.stdout()).toContain("cleanup done after SIGTERM");
    expect(child.stdout()).not.toContain("not reached");
    expect(child.stderr()).toBe("");
    expect(code).toBe(0);
  });

  test("SIGTERM reaches every child when the root body has already returned (servers spawned from main)", async () => {
    const child = runScript(
      fx,
      "servers.mjs",
      `import { main, sleep, spawn } from CORE;
       await main(function* () {
         for (const name of ["http", "ws", "console"]) {
           yield* spawn(function* () {
             try { yield* sleep(1e9); } finally { console.log(name + " stopped"); }
           }, { name });
         }
         console.log("ready");
       });`,
    );
    await child.waitFor("ready");
    child.proc.kill("SIGTERM");
    const { code } = await child.exited;
    expect(child.stdout().split("\n").filter((l) => l.endsWith("stopped")).sort()).toEqual(["console stopped", "http stopped", "ws stopped"]);
    expect(code).toBe(0);
  });

  test("SIGINT cancels the root task the same way", async () => {
    const child = runScript(fx, "int.mjs", sleeper("SIGINT"));
    await child.waitFor("ready");
    child.proc.kill("SIGINT");
    const { code } = await child.exited;
    expect(child.stdout()).toContain("cleanup done after SIGINT");
    expect(code).toBe(0);
  });

  test("an error from the root task is printed and the exit code is 1", async () => {
    const child = runScript(
      fx,
      "fail.mjs",
      `import { main, sleep } from CORE;
       await main(function* () { yield* sleep(1); throw new RangeError("the widget broke"); });`,
    );
    const { code } = await child.exited;
    expect(code).toBe(1);
    expect(child.stderr()).toContain("RangeError: the widget broke");
  });

  test("a signal name that cannot be caught rejects main() before any handler is attached: Ctrl-C still stops the process", async () => {
    const child = runScript(
      fx,
      "bad-signal.mjs",
      `import { main } from CORE;
       try {
         await main(function* () {}, { signals: ["SIGINT", "SIGKILL"], exit: false });
       } catch (e) {
         console.log("rejected:", e.name, e.message, "SIGINT listeners:", process.listenerCount("SIGINT"));
       }
       setInterval(() => {}, 1000);
       console.log("ready");`,
    );
    await child.waitFor("ready");
    child.proc.kill("SIGINT");
    const { signal } = await child.exited;
    expect(child.stdout()).toContain("rejected: RangeError SIGKILL cannot be caught SIGINT listeners: 0");
    expect(signal).toBe("SIGINT");
  });

  test("an error raised during signal-triggered cleanup still exits 1", async () => {
    const child = runScript(
      fx,
      "cleanup-fails.mjs",
      `import { main, sleep } from CORE;
       await main(function* () {
         try { console.log("ready"); yield* sleep(1e9); }
         finally { throw new Error("cleanup failed"); }
       });`,
    );
    await child.waitFor("ready");
    child.proc.kill("SIGTERM");
    const { code } = await child.exited;
    expect(code).toBe(1);
    expect(child.stderr()).toContain("cleanup failed");
  });

  test("a second signal while cleanup runs forces exit with 128 + the signal number and lists the stuck tasks", async () => {
    const child = runScript(
      fx,
      "stuck.mjs",
      `import { main, sleep } from CORE;
       await main(function* () {
         try { console.log("ready"); yield* sleep(1e9); }
         finally { console.log("cleaning"); yield* sleep(1e9); console.log("never"); }
       }, { graceMs: Infinity, name: "stubborn" });`,
    );
    await child.waitFor("ready");
    child.proc.kill("SIGTERM");
    await child.waitFor("cleaning");
    await new Promise((r) => setTimeout(r, SIGNAL_ECHO_MS + 50)); // a second signal, not the first one's echo
    child.proc.kill("SIGTERM");
    const { code } = await child.exited;
    expect(code).toBe(128 + 15);
    expect(child.stdout()).not.toContain("never");
    expect(child.stderr()).toContain("1 stubborn: sleep(1000000000)");
  });

  test("one Ctrl-C delivered twice (process group + a package manager forwarding it) does not cut a graceful shutdown short", async () => {
    const child = runScript(fx, "echoed-sigint.mjs", gracefulOnSigint(300));
    await child.waitFor("ready");
    child.proc.kill("SIGINT");
    // The forwarded copy, a moment later (back to back, the system would
    // merge the two); spun, not timed, so no timer delay can stretch the gap.
    const end = performance.now() + 10;
    while (performance.now() < end);
    child.proc.kill("SIGINT");
    const { code } = await child.exited;
    expect(child.stdout()).toContain("graceful done");
    expect(child.stdout()).not.toContain("cut short");
    expect(code).toBe(0);
  });

  test("a second Ctrl-C later than the echo window still cancels the root", async () => {
    const child = runScript(fx, "second-sigint.mjs", gracefulOnSigint(10_000));
    await child.waitFor("ready");
    child.proc.kill("SIGINT");
    await child.waitFor("stopping");
    await new Promise((r) => setTimeout(r, SIGNAL_ECHO_MS + 50));
    child.proc.kill("SIGINT");
    const { code } = await child.exited;
    expect(child.stdout()).toContain("cut short");
    expect(code).toBe(0);
  });

  test("a second signal during cleanup forces the exit even when a task also waits for it", async () => {
    const child = runScript(
      fx,
      "stuck-waiting.mjs",
      `import { main, signal, sleep, spawn } from CORE;
       await main(function* () {
         try { console.log("ready"); yield* sleep(1e9); }
         finally {
           yield* spawn(function* () { yield* signal("SIGTERM"); console.log("waiter got it"); });
           console.log("cleaning"); yield* sleep(1e9);
         }
       }, { graceMs: Infinity });`,
    );
    await child.waitFor("ready");
    child.proc.kill("SIGTERM");
    await child.waitFor("cleaning");
    await new Promise((r) => setTimeout(r, SIGNAL_ECHO_MS + 50));
    child.proc.kill("SIGTERM");
    const { code } = await child.exited;
    expect(code).toBe(128 + 15);
  });

  test("two main()s at once both keep their handlers: the one left running still takes SIGINT", async () => {
    const child = runScript(
      fx,
      "two-mains.mjs",
      `import { main, sleep } from CORE;
       const a = main(function* () {
         try { yield* sleep(10_000); } finally { console.log("A cleaned up"); }
       }, { exit: false });
       await main(function* () { yield* sleep(20); }, { exit: false });
       console.log("B done, SIGINT listeners " + process.listenerCount("SIGINT"));
       process.kill(process.pid, "SIGINT");
       console.log("A code " + (await a));`,
    );
    const { code } = await child.exited;
    expect(child.stdout()).toContain("B done, SIGINT listeners 1");
    expect(child.stdout()).toContain("A cleaned up");
    expect(child.stdout()).toContain("A code 0");
    expect(code).toBe(0);
  });

  test("a task waiting in signal() takes SIGTERM instead of the root being cancelled", async () => {
    const child = runScript(
      fx,
      "takes-signal.mjs",
      `import { main, signal } from CORE;
       const code = await main(function* () {
         console.log("ready");
         const got = yield* signal("SIGTERM");
         console.log("handled " + got);
         return "done";
       }, { exit: false });
       console.log("exit code " + code + ", SIGTERM listeners " + process.listenerCount("SIGTERM"));`,
    );
    await child.waitFor("ready");
    child.proc.kill("SIGTERM");
    const { code } = await child.exited;
    expect(child.stdout()).toContain("handled SIGTERM");
    expect(child.stdout()).toContain("exit code 0, SIGTERM listeners 0");
    expect(code).toBe(0);
  });

  test("a reload loop on a signals() receiver survives a SIGHUP that comes while it reloads, and reloads again for it", async () => {
    const child = runScript(
      fx,
      "reload.mjs",
      `import { main, signals, sleep } from CORE;
       await main(function* () {
         const hup = signals("SIGHUP");
         try {
           console.log("ready");
           for (let n = 1; n <= 2; n++) {
             yield* hup.next();
             console.log("reload " + n);
             yield* sleep(300); // reading the configuration
           }
         } finally {
           hup.close();
         }
         console.log("done, SIGHUP listeners " + process.listenerCount("SIGHUP"));
       });`,
    );
    await child.waitFor("ready");
    child.proc.kill("SIGHUP");
    await child.waitFor("reload 1");
    await new Promise((r) => setTimeout(r, 100));
    child.proc.kill("SIGHUP"); // mid-reload: nobody waits in next() now
    const { code, signal } = await child.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(child.stdout()).toContain("reload 2");
    expect(child.stdout()).toContain("done, SIGHUP listeners 0");
  });

  test("cancelling the root from outside any task (as the signal handler does) reaches every child", async () => {
    const log: string[] = [];
    const app = start(
      function* () {
        for (const n of ["a", "b", "c"]) {
          yield* spawn(function* () {
            try {
              yield* sleep(1000);
            } finally {
              log.push(n);
            }
          }, { name: n });
        }
      },
      { clock: new VirtualClock() },
    );
    await new Promise((r) => setImmediate(r));
    app.root.cancel();
    await app.promise;
    expect(log.sort()).toEqual(["a", "b", "c"]);
    expect(app.kernel.liveTasks).toBe(0);
  });

  test("resolves with the exit code and removes its signal handlers (exit: false)", async () => {
    const before = { int: process.listenerCount("SIGINT"), term: process.listenerCount("SIGTERM") };
    let during = 0;
    const code = await main(
      function* () {
        during = process.listenerCount("SIGTERM");
        yield* spawn(sleep(1));
        return 42;
      },
      { exit: false },
    );
    expect(code).toBe(0);
    expect(during).toBe(before.term + 1);
    expect(process.listenerCount("SIGINT")).toBe(before.int);
    expect(process.listenerCount("SIGTERM")).toBe(before.term);
  });

  test("a root cancelled without a signal (e.g. from the remote console) is a clean stop: 0, nothing reported", async () => {
    const reports: unknown[] = [];
    const code = await main(
      function* () {
        const me = yield* currentTask();
        me.cancel();
        yield* sleep(1000);
      },
      { exit: false, report: (_message, error) => reports.push(error), clock: new VirtualClock() },
    );
    expect(code).toBe(0);
    expect(reports).toEqual([]);
  });

  test("a failing root resolves with 1 and reports the error (exit: false)", async () => {
    const reports: unknown[] = [];
    const code = await main(
      function* () {
        throw new TypeError("bad input");
      },
      { exit: false, report: (_message, error) => reports.push(error) },
    );
    expect(code).toBe(1);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toBeInstanceOf(TypeError);
  });
});
