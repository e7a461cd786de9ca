/**
 * Runs each load generator as its own process pinned to one core with
 * `taskset`, and reads its figures: skein-load (`--json`), autocannon
 * (`--json`) and wrk (its text summary, with a Lua script for pipelining).
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { LoadReport } from "../src/load/report.js";

/** One tool's result. */
export interface ToolResult {
  tool: string;
  /** Successful responses per second. */
  rps: number;
  /** Socket errors, timeouts and unexpected statuses, summed. */
  errors: number;
  detail: string;
}

/** Common settings of a run. */
export interface RunSpec {
  url: string;
  connections: number;
  pipeline: number;
  seconds: number;
  /** The core to pin the tool to. */
  core: number;
}

/** Runs a command pinned to `core` and returns its stdout; rejects on a non-zero exit. */
export function pinned(core: number, command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("taskset", ["-c", String(core), command, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(" ")} exited ${code}\n${err.slice(-2000)}`))));
  });
}

/** True when `cmd` is on the PATH. */
export function has(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** skein-load from the built CLI bundle next to this bench. */
export async function runSkeinLoad(cli: string, s: RunSpec, extra: string[] = []): Promise<{ result: ToolResult; report: LoadReport }> {
  const out = await pinned(s.core, process.execPath, [cli, s.url, "-c", String(s.connections), "-p", String(s.pipeline), "-d", `${s.seconds}s`, "--json", "-q", ...extra]);
  const report = JSON.parse(out) as LoadReport;
  return {
    report,
    result: {
      tool: "skein-load",
      rps: report.requestsPerSec,
      errors: report.errorTotal,
      detail: `${report.requests} ok, p50 ${report.latencyMs.p50} ms, p99 ${report.latencyMs.p99} ms, RSS ${(report.maxRssBytes / 2 ** 20).toFixed(0)} MB`,
    },
  };
}

/** autocannon's CLI from the root devDependency. */
export async function runAutocannon(s: RunSpec): Promise<ToolResult> {
  const script = join(dirname(createRequire(import.meta.url).resolve("autocannon/package.json")), "autocannon.js");
  const out = await pinned(s.core, process.execPath, [script, "-c", String(s.connections), "-p", String(s.pipeline), "-d", String(s.seconds), "--json", s.url]);
  const r = JSON.parse(out) as { duration: number; "2xx": number; errors: number; timeouts: number; non2xx: number; requests: { total: number } };
  return {
    tool: "autocannon",
    rps: r["2xx"] / r.duration,
    errors: r.errors + r.timeouts + r.non2xx,
    detail: `${r["2xx"]} 2xx in ${r.duration.toFixed(2)} s`,
  };
}

let luaScript: string | null = null;

/** wrk with one thread; pipelining through a Lua script that returns `pipeline` requests per write. */
export async function runWrk(s: RunSpec): Promise<ToolResult> {
  if (luaScript === null) {
    luaScript = join(mkdtempSync(join(tmpdir(), "skein-bench-load-")), "pipeline.lua");
    writeFileSync(luaScript, [
      "init = function(args)",
      "  local depth = tonumber(args[1]) or 1",
      "  local r = {}",
      "  for i = 1, depth do r[i] = wrk.format(nil, nil) end",
      "  req = table.concat(r)",
      "end",
      "request = function() return req end",
      "",
    ].join("\n"));
  }
  const out = await pinned(s.core, "wrk", ["-t1", `-c${s.connections}`, `-d${s.seconds}s`, "-s", luaScript, s.url, "--", String(s.pipeline)]);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  if (rps === null) throw new Error(`cannot read wrk's output:\n${out}`);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errors = (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  const total = /(\d+) requests in ([\d.]+)s/.exec(out);
  return { tool: "wrk", rps: Number(rps[1]), errors, detail: total ? `${total[1]} requests in ${total[2]} s` : "" };
}
