/**
 * `pnpm bench`: runs every package benchmark in turn (core, http, ws, and
 * load when it exists) with `--json`, shows a progress line, then writes
 * `bench/results.md`, `bench/results.svg` and the raw `bench/results.json`
 * at the repository root.
 *
 * Options:
 *   --only core,http    run a subset
 *   --timeout-min N     kill a bench that runs longer (default 20)
 *   --out DIR           where to write the results (default <root>/bench)
 *
 * Exits 1 when a bench failed or exited non-zero; the files are written anyway.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchOutcome, BenchReport, MachineInfo } from "./figures.js";
import { renderMarkdown, targetSummary } from "./render-markdown.js";
import { renderSvg } from "./render-svg.js";
import { runBench, type BenchSpec } from "./run-bench.js";
import { Progress } from "./progress.js";
import { readCpuTimes, stealShare } from "./cpu-steal.js";

/** The workspace root: the nearest parent holding pnpm-workspace.yaml. */
function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
  }
}

function machine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.replace(/\s+/g, " ").trim() ?? "unknown",
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryBytes: os.totalmem(),
    os: `${os.platform()} ${os.arch()} ${os.release()}`,
    node: process.version,
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** How the user started us: `pnpm bench` (with its arguments) or the node command. */
function commandLine(root: string): string {
  const args = process.argv.slice(2).join(" ");
  const script = process.env.npm_lifecycle_event;
  if (script) return `pnpm ${script}${args ? ` ${args}` : ""}`;
  return `node ${relative(root, process.argv[1] ?? "bench.js")}${args ? ` ${args}` : ""}`;
}

function ensureWrk(root: string): void {
  if (spawnSync("sh", ["-c", "command -v wrk"], { stdio: "ignore" }).status === 0) return;
  console.error("bench: wrk is missing; installing it");
  execFileSync(process.execPath, [join(root, "scripts/system-deps.mjs"), "wrk"], { stdio: "inherit" });
}

async function mainBench(): Promise<number> {
  const root = findRoot(dirname(fileURLToPath(import.meta.url)));
  const outDir = resolve(arg("--out") ?? join(root, "bench"));
  const timeoutMs = Number(arg("--timeout-min") ?? 20) * 60_000;
  const only = arg("--only")?.split(",").map((s) => s.trim());
  mkdirSync(outDir, { recursive: true });
  ensureWrk(root);

  const all: BenchSpec[] = [
    { name: "core", script: join(root, "packages/core/dist/bench/core.js") },
    { name: "http", script: join(root, "packages/http/dist/bench/http.js") },
    { name: "ws", script: join(root, "packages/websocket/dist/bench/ws.js") },
    { name: "load", script: join(root, "packages/http/dist/bench/load.js"), optional: true },
  ];
  const specs = all
    .filter((s) => !only || only.includes(s.name))
    .filter((s) => !s.optional || existsSync(s.script));

  const progress = new Progress(specs.length);
  const outcomes: BenchOutcome[] = [];
  for (const [i, spec] of specs.entries()) {
    progress.start(i, spec.name);
    const cpuBefore = readCpuTimes();
    const outcome: BenchOutcome = existsSync(spec.script)
      ? await runBench(spec, {
          cwd: root,
          logFile: join(outDir, `${spec.name}.log`),
          timeoutMs,
          onLine: (line) => progress.detail(line),
        })
      : { bench: spec.name, ok: false as const, error: `${relative(root, spec.script)} is not built (does the bench source exist yet?)`, seconds: 0, exitCode: null };
    const steal = stealShare(cpuBefore, readCpuTimes());
    if (steal !== undefined) outcome.steal = steal;
    outcomes.push(outcome);
    progress.done(outcome);
  }

  const report: BenchReport = { machine: machine(), date: new Date().toISOString(), command: commandLine(root), outcomes };
  const md = join(outDir, "results.md");
  const svg = join(outDir, "results.svg");
  writeFileSync(md, renderMarkdown(report));
  writeFileSync(svg, renderSvg(report));
  // The raw report, for comparing runs by machine.
  writeFileSync(join(outDir, "results.json"), JSON.stringify(report, null, 1) + "\n");
  const { met, total, failedBenches } = targetSummary(report);
  console.error(`bench: ${met} of ${total} targets met; wrote ${relative(process.cwd(), md)} and ${relative(process.cwd(), svg)}`);
  if (failedBenches) console.error(`bench: ${failedBenches} bench(es) failed; their logs are in ${relative(process.cwd(), outDir)}/*.log`);
  return failedBenches ? 1 : 0;
}

mainBench().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
