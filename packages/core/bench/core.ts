/**
 * `pnpm bench:core` — Skein's kernel against async/await and effection, in
 * one run:
 *
 *   spawn + join of 100k tasks          ≥ 100x effection, ≥ 1.0x async functions
 *   context switches (Queue ping-pong)  ≥ 5M/s, ≥ 20x effection
 *   TCP echo, 64 conns × 16 KiB         ≥ 0.9x a plain `net` echo server
 *   heap per idle task (100k in sleep)  ≤ 600 bytes
 *
 * Throughput figures are the best of 3 runs after a warm-up, each run in a
 * fresh process. Absolute goals
 * (5M/s, 600 B) are rows whose baseline is the goal itself, so the shared
 * figures format can check them. `--json` prints one `BenchFigures` object
 * on stdout (progress goes to stderr). The same bundle also runs the child
 * roles (`--role=measure|echo-server|echo-load|memory`) this file starts.
 *
 * Options: --json, --only=spawn,switch,echo,memory, --echo-ms=3000
 */
import { spawn as spawnProcess } from "node:child_process";
import { asyncPingPong, asyncSpawnJoin, effectionChannelPingPong, effectionQueuePingPong, effectionSpawnJoin, skeinPingPong, skeinSpawnJoin } from "./cpu.js";
import { echoFigures, echoLoad, echoServer } from "./echo.js";
import { measureMemory, memoryChild } from "./memory.js";
import { bestOfEach, machineInfo, progress, table, withRatio, type BenchFigures, type FigureRow } from "./report.js";

const args = new Map<string, string>();
for (const a of process.argv.slice(2)) {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (m) args.set(m[1]!, m[2] ?? "true");
}
const num = (name: string, dflt: number) => (args.has(name) ? Number(args.get(name)) : dflt);

const SPAWN_N = 100_000;
/** effection needs ~35 s for 100k spawns; its per-task rate at 20k is higher, so this favours it. */
const EFFECTION_SPAWN_N = 20_000;
const SWITCH_ROUNDS = 1_000_000;
const EFFECTION_SWITCH_ROUNDS = 100_000;
const MEMORY_N = 100_000;

/** The in-process measurements, by key; each runs in a fresh child process (see `isolated`). */
const MEASURES: Record<string, () => Promise<number>> = {
  "spawn-skein": () => skeinSpawnJoin(SPAWN_N),
  "spawn-async": () => asyncSpawnJoin(SPAWN_N),
  "spawn-effection": () => effectionSpawnJoin(EFFECTION_SPAWN_N),
  "switch-skein": () => skeinPingPong(SWITCH_ROUNDS),
  "switch-async": () => asyncPingPong(SWITCH_ROUNDS),
  "switch-effection-channel": () => effectionChannelPingPong(EFFECTION_SWITCH_ROUNDS),
  "switch-effection-queue": () => effectionQueuePingPong(EFFECTION_SWITCH_ROUNDS),
};

/** Child role: warm one measurement up, run it once more, print `{ value }`. */
async function measureChild(key: string): Promise<void> {
  const measure = MEASURES[key];
  if (measure === undefined) throw new Error(`unknown measurement ${key}`);
  const { value } = await bestOfEach(1, { value: measure });
  process.stdout.write(JSON.stringify({ value }) + "\n");
}

/**
 * Best of 3 for each measurement, each run in a fresh process (so one
 * runtime's heap and JIT state cannot slow another: effection's leftovers
 * halved Skein's spawn rate when they shared a process), rounds interleaved
 * so changes in machine load hit every runtime alike.
 */
async function isolated<K extends string>(keys: Record<K, string>): Promise<Record<K, number>> {
  const best = {} as Record<K, number>;
  for (let round = 0; round < 3; round++) {
    for (const k of Object.keys(keys) as K[]) {
      const v = await runChild(["--role=measure", `--key=${keys[k]}`]);
      best[k] = Math.max(best[k] ?? -Infinity, v);
    }
  }
  return best;
}

function runChild(argv: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawnProcess(process.execPath, [process.argv[1]!, ...argv], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.on("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (code !== 0 || line === undefined) reject(new Error(`${argv.join(" ")} failed (${code}): ${out}`));
      else resolve((JSON.parse(line) as { value: number }).value);
    });
  });
}

async function spawnRows(): Promise<FigureRow[]> {
  progress("spawn + join: Skein, async functions, effection (best of 3, a fresh process per run)…");
  const { skein, asyncFns, eff } = await isolated({ skein: "spawn-skein", asyncFns: "spawn-async", eff: "spawn-effection" });
  const name = "spawn + join, 100k tasks";
  return [
    {
      name,
      value: skein,
      unit: "tasks/s",
      baseline: { name: "effection", value: eff },
      target: { ratio: 100, of: "effection" },
      note: `effection measured with ${EFFECTION_SPAWN_N / 1000}k tasks (100k takes ~35 s per run and its rate per task is lower there, so this favours effection)`,
    },
    { name, value: skein, unit: "tasks/s", baseline: { name: "async functions", value: asyncFns }, target: { ratio: 1, of: "async functions" } },
  ];
}

async function switchRows(): Promise<FigureRow[]> {
  progress("context switches: Skein Queue, async/await, effection channel and queue (best of 3, a fresh process per run)…");
  const { skein, asyncAwait, effChannel, effQueue } = await isolated({
    skein: "switch-skein",
    asyncAwait: "switch-async",
    effChannel: "switch-effection-channel",
    effQueue: "switch-effection-queue",
  });
  // The target is against effection's Channel; its Queue (faster) is shown too.
  const name = "context switches, Queue ping-pong";
  return [
    { name, value: skein, unit: "switches/s", baseline: { name: "effection channel", value: effChannel }, target: { ratio: 20, of: "effection channel" } },
    { name, value: skein, unit: "switches/s", baseline: { name: "effection queue", value: effQueue } },
    { name, value: skein, unit: "switches/s", baseline: { name: "5M/s goal", value: 5e6 }, target: { ratio: 1, of: "5M/s goal" } },
    { name, value: skein, unit: "switches/s", baseline: { name: "async/await", value: asyncAwait } },
  ];
}

async function echoRows(): Promise<FigureRow[]> {
  const options = { conns: 64, size: 16 * 1024, warmupMs: 1000, ms: num("echo-ms", 3000), rounds: 5 };
  progress(`TCP echo: ${options.conns} connections × ${options.size / 1024} KiB, servers on core 0, load on core 1 (best of ${options.rounds})…`);
  const r = await echoFigures(options);
  return [
    {
      name: "TCP echo, 64 conns × 16 KiB",
      value: r.skein,
      unit: "MiB/s",
      baseline: { name: "node:net echo", value: r.net },
      target: { ratio: 0.9, of: "node:net echo" },
      note: r.pinned
        ? `servers pinned to core 0 and the plain net load generator to core 1 (taskset); ${options.ms} ms after ${options.warmupMs} ms warm-up per run; ` +
          `server CPU per GiB echoed: Skein ${r.cpuMsPerGiB.skein.toFixed(0)} ms, net ${r.cpuMsPerGiB.net.toFixed(0)} ms (${(r.cpuMsPerGiB.skein / r.cpuMsPerGiB.net).toFixed(2)}x)`
        : "taskset unavailable: NOT pinned",
    },
  ];
}

async function memoryRows(): Promise<FigureRow[]> {
  progress("memory: 100k idle tasks blocked in sleep, heap after GC, child node --expose-gc…");
  const skein = await measureMemory("skein", MEMORY_N);
  const asyncFns = await measureMemory("async", MEMORY_N);
  const eff = await measureMemory("effection", MEMORY_N);
  const name = "heap per idle task (100k in sleep)";
  return [
    { name, value: skein, unit: "B/task", better: "lower", baseline: { name: "600 B goal", value: 600 }, target: { ratio: 1, of: "600 B goal" } },
    { name, value: skein, unit: "B/task", better: "lower", baseline: { name: "async fn + setTimeout", value: asyncFns } },
    { name, value: skein, unit: "B/task", better: "lower", baseline: { name: "effection", value: eff } },
  ];
}

async function benchmark(): Promise<void> {
  const only = args.has("only") ? new Set(args.get("only")!.split(",")) : null;
  const sections: [string, () => Promise<FigureRow[]>][] = [
    ["spawn", spawnRows],
    ["switch", switchRows],
    ["echo", echoRows],
    ["memory", memoryRows],
  ];
  const rows: FigureRow[] = [];
  for (const [key, fn] of sections) if (only === null || only.has(key)) rows.push(...(await fn()).map(withRatio));
  const figures: BenchFigures = { bench: "core", rows, machine: machineInfo({ command: "pnpm bench:core" }) };
  if (args.has("json")) process.stdout.write(JSON.stringify(figures) + "\n");
  else process.stdout.write("\n" + table(rows));
}

const role = args.get("role");
if (role === "echo-server") await echoServer(args.get("impl") ?? "skein");
else if (role === "echo-load") {
  await echoLoad(num("port", 0), { conns: num("conns", 64), size: num("size", 16384), warmupMs: num("warmup-ms", 1000), ms: num("ms", 3000), rounds: 1 });
} else if (role === "measure") await measureChild(args.get("key") ?? "");
else if (role === "memory") await memoryChild(args.get("impl") ?? "skein", num("n", MEMORY_N));
else await benchmark();
