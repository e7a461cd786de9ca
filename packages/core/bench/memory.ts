/**
 * Memory: heap per idle task. A fresh child `node --expose-gc` spawns N tasks
 * that each block in a long sleep, and compares the heap after a full GC with
 * the heap before (so the task object, its generator, the pending sleep and
 * its timer-heap slot are all counted).
 */
import { spawn } from "node:child_process";
import { run as effRun, sleep as effSleep, spawn as effSpawn, suspend } from "effection";
import { sleep, spawn as skeinSpawn, start } from "../src/index.js";

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== "function") throw new Error("run with --expose-gc");
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

function* idle(): Generator<unknown, void, any> {
  yield* sleep(1e9);
}

/** Child role: measures one implementation, prints `{ bytesPerTask }` and exits. */
export async function memoryChild(impl: string, n: number): Promise<void> {
  await tick();
  const before = heapAfterGc();
  let check = "";
  if (impl === "skein") {
    const app = start(function* () {
      for (let i = 0; i < n; i++) yield* skeinSpawn(idle);
      yield* sleep(1e9);
    });
    await tick();
    await tick();
    if (app.root.childCount !== n || app.kernel.liveTasks !== n + 1) throw new Error(`expected ${n} live children, have ${app.root.childCount}`);
    const after = heapAfterGc();
    report((after - before) / n);
    // Sanity: cancelling them all leaves nothing behind.
    app.root.cancel();
    await app.promise.catch(() => undefined);
    check = `after cancel: ${app.kernel.liveTasks} tasks, ${app.kernel.timers.size} timers`;
  } else if (impl === "async") {
    let started = 0;
    const idleAsync = async () => {
      started++;
      await new Promise((resolve) => setTimeout(resolve, 1e9));
    };
    for (let i = 0; i < n; i++) void idleAsync();
    await tick();
    if (started !== n) throw new Error("not all started");
    report((heapAfterGc() - before) / n);
  } else if (impl === "effection") {
    let started = 0;
    void effRun(function* () {
      for (let i = 0; i < n; i++) {
        yield* effSpawn(function* () {
          started++;
          yield* effSleep(1e9);
        });
      }
      yield* suspend();
    });
    while (started < n) await tick();
    await tick();
    report((heapAfterGc() - before) / n);
  } else throw new Error(`unknown impl ${impl}`);
  if (check) process.stderr.write(`memory ${impl}: ${check}\n`);
  process.exit(0);
}

function report(bytesPerTask: number): void {
  process.stdout.write(JSON.stringify({ bytesPerTask }) + "\n");
}

/** Parent: runs the child for `impl` and returns bytes per idle task. */
export function measureMemory(impl: string, n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", process.argv[1]!, "--role=memory", `--impl=${impl}`, `--n=${n}`], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (code !== 0 || line === undefined) return reject(new Error(`memory child (${impl}) failed with code ${code}: ${out}`));
      resolve((JSON.parse(line) as { bytesPerTask: number }).bytesPerTask);
    });
  });
}
