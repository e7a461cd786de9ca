/**
 * `pnpm bench:http` — the Skein HTTP server against baselines measured in
 * the same run:
 *
 * - `node:http` serving the same app through `toNodeListener`;
 * - a plain `net` server that only counts request terminators and writes a
 *   canned response (the ceiling for any JavaScript server).
 *
 * Every server runs in its own process pinned to core 0 (`taskset`), wrk on
 * core 1. Scenarios: `GET /plaintext` pipelined 16 deep, not pipelined, and
 * a TechEmpower-style request (Host, Accept, User-Agent, Connection) pipelined
 * 16 deep; 256 connections each. Then memory per idle keep-alive connection
 * (see `memoryPerConnection` for what is counted).
 *
 * Each scenario runs `--rounds` times, the servers taking turns, and the
 * median is reported (the machine may be shared: turns spread the noise over
 * all servers alike). Besides req/s it reports each server's CPU time per
 * request (from /proc), which stays meaningful when wrk, not the server, is
 * the bottleneck. Memory is RSS (and heap) growth per idle connection, from
 * n idle connections to 2n (see `memoryPerConnection`).
 *
 * Prints a table of req/s and ratios (or one JSON object with `--json`) and
 * exits non-zero if any run had socket errors or non-2xx answers.
 *
 * Options: --json, --duration <s> (5), --warmup <s> (1), --rounds <n> (3),
 * --connections <n> (256), --depth <n> (16), --idle <n> idle connections
 * for the memory test (5000, then 5000 more).
 */
import { machineInfo, type FigureRow } from "../../../scripts/bench-figures.js";
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { connect, createServer as createNetServer, type Socket } from "node:net";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { getHeapSpaceStatistics } from "node:v8";
import { run } from "@skein/core";
import { HttpServer, Prepared, Router, toNodeListener, type App } from "@skein/http";

const exec = promisify(execFile);
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const option = (name: string, fallback: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};

const KINDS = ["skein", "node", "canned"] as const;
type Kind = (typeof KINDS)[number];
const BODY = "Hello, World!";

/** The benchmarked app: TechEmpower's plaintext and json tests. */
function benchApp(): App {
  const plaintext = Prepared.text(200, BODY);
  return new Router()
    .get("/plaintext", () => plaintext)
    .get("/json", (_req, res) => res.json(200, { message: BODY }))
    .app();
}

// ---- server processes ------------------------------------------------------

function serveCanned(onPort: (port: number) => void): void {
  // Counts "\r\n\r\n" (state carried across reads) and answers each with canned bytes.
  const date = new Date().toUTCString();
  const one = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${BODY.length}\r\nDate: ${date}\r\n\r\n${BODY}`, "latin1");
  const server = createNetServer({ noDelay: true }, (socket) => {
    let matched = 0;
    socket.on("data", (data: Buffer) => {
      let n = 0;
      for (let i = 0; i < data.length; i++) {
        const c = data[i];
        if (c === (matched % 2 === 0 ? 13 : 10)) {
          if (++matched === 4) {
            n++;
            matched = 0;
          }
        } else matched = c === 13 ? 1 : 0;
      }
      if (n === 1) socket.write(one);
      else if (n > 1) {
        const out = Buffer.allocUnsafe(one.length * n);
        for (let k = 0; k < n; k++) one.copy(out, k * one.length);
        socket.write(out);
      }
    });
    socket.on("error", () => {});
  });
  server.listen(option("port", 0), "127.0.0.1", () => onPort((server.address() as { port: number }).port));
}

function serveNode(onPort: (port: number) => void): void {
  const server = createHttpServer({ keepAliveTimeout: 120_000, headersTimeout: 120_000 }, toNodeListener(benchApp()));
  server.listen(option("port", 0), "127.0.0.1", () => onPort((server.address() as { port: number }).port));
}

function serveSkein(onPort: (port: number) => void): void {
  const server = new HttpServer(benchApp(), {
    port: option("port", 0), host: "127.0.0.1", limits: { keepAliveTimeoutMs: 120_000, headersTimeoutMs: 120_000 },
    onListening: (s) => onPort(s.address.port),
  });
  void run(server.run());
}

/** Server mode (`--serve <kind> [--port n]`); standalone it prints the port (for profiling). */
function child(kind: Kind): void {
  const announce = (port: number) => (process.send ? process.send({ port }) : console.log(`${kind} listening on ${port}`));
  process.on("message", (m: { type: string }) => {
    if (m.type !== "memory") return;
    (globalThis as { gc?: () => void }).gc?.();
    (globalThis as { gc?: () => void }).gc?.();
    const young = getHeapSpaceStatistics().find((s) => s.space_name === "new_space")?.physical_space_size ?? 0;
    process.send!({ memory: { ...process.memoryUsage(), young } });
  });
  process.on("disconnect", () => process.exit(0));
  process.on("SIGTERM", () => process.exit(0));
  process.on("SIGINT", () => process.exit(0));
  if (kind === "canned") serveCanned(announce);
  else if (kind === "node") serveNode(announce);
  else serveSkein(announce);
}

/** A server's memory after a full GC; `young`: physical size of V8's young generation. */
type ServerMemory = NodeJS.MemoryUsage & { young: number };

interface ServerProcess {
  kind: Kind;
  port: number;
  proc: ChildProcess;
  memory(): Promise<ServerMemory>;
}

function hasTaskset(): boolean {
  try {
    execFileSync("taskset", ["-c", "0", "true"]);
    return cpus().length >= 2;
  } catch {
    return false;
  }
}

function startServerProcess(kind: Kind, pinned: boolean): Promise<ServerProcess> {
  const self = fileURLToPath(import.meta.url);
  const args = ["--expose-gc", self, "--serve", kind];
  const proc = pinned
    ? spawn("taskset", ["-c", "0", process.execPath, ...args], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
    : spawn(process.execPath, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  return new Promise((resolve, reject) => {
    proc.once("error", reject);
    proc.once("exit", (code) => reject(new Error(`${kind} server exited with ${code}`)));
    proc.once("message", (m: { port: number }) => {
      const memory = () => new Promise<ServerMemory>((res) => {
        proc.once("message", (reply: { memory: ServerMemory }) => res(reply.memory));
        proc.send({ type: "memory" });
      });
      resolve({ kind, port: m.port, proc, memory });
    });
  });
}

/** CPU time (user + system) a process has used, in ms; NaN where /proc is missing. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / clockTicks;
  } catch {
    return NaN;
  }
}
let clockTicks = 100;
try {
  clockTicks = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
} catch {
  // keep the usual 100
}

// ---- load ----------------------------------------------------------------------

interface WrkResult {
  rps: number;
  requests: number;
  /** Server CPU microseconds per request. */
  cpuUsPerRequest: number;
  latencyAvg: string;
  socketErrors: number;
  non2xx: number;
}

const TECHEMPOWER_HEADERS = [
  "Host: tfb-server",
  "Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7",
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20130501 Firefox/30.0 AppleWebKit/600.00 Chrome/30.0.0000.0 Trident/10.0 Safari/600.00",
  "Connection: keep-alive",
];

async function wrk(server: ServerProcess, seconds: number, connections: number, depth: number, headers: string[], pinned: boolean): Promise<WrkResult> {
  const port = server.port;
  const lua = fileURLToPath(new URL("../../bench/pipeline.lua", import.meta.url));
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "-s", lua, `http://127.0.0.1:${port}/plaintext`, "--", String(depth), ...headers];
  const cpuBefore = cpuMs(server.proc.pid!);
  const { stdout } = pinned ? await exec("taskset", ["-c", "1", "wrk", ...args]) : await exec("wrk", args);
  const cpu = cpuMs(server.proc.pid!) - cpuBefore;
  const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    cpuUsPerRequest: (cpu * 1000) / Math.max(1, num(/(\d+) requests in/)),
    latencyAvg: /Latency\s+(\S+)/.exec(stdout)?.[1] ?? "?",
    socketErrors: errors === null ? 0 : errors.slice(1).reduce((a, b) => a + Number(b), 0),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
  };
}

// ---- memory per idle keep-alive connection -------------------------------------

async function idleConnections(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 100) {
    const batch = await Promise.all(Array.from({ length: Math.min(100, count - i) }, () => new Promise<Socket>((resolve, reject) => {
      const s = connect(port, "127.0.0.1");
      s.once("error", reject);
      s.once("data", () => resolve(s));
      s.write("GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\n");
    })));
    sockets.push(...batch);
  }
  return sockets;
}

interface MemoryFigures {
  /** JS heap + external per connection, from `count` idle connections to twice as many. */
  heapBytes: number;
  /** RSS outside V8's young generation per connection, likewise: the target's figure. */
  rssBytes: number;
  /** Plain RSS growth per connection, likewise (young generation growth included). */
  rssWithYoungBytes: number;
  /** Plain RSS growth per connection from the warmed-up server to 2 × `count`. */
  rssFromStartBytes: number;
}

/**
 * Memory per idle connection as the growth from `count` idle connections
 * to twice as many: the cost of one more connection, in RSS — native memory
 * (sockets, libuv, node:http's parsers) included — but not counting V8's
 * young generation. The young generation is a per-process nursery that V8
 * grows in steps (to 32 MB here) as the allocation rate rises; whichever
 * batch of connections happens to cross a step is charged megabytes that no
 * connection holds (measured: 0.5–3 KB per connection, varying by server
 * and run). Long-lived connection state lives in old space, which is
 * counted. The plain RSS figures are returned too.
 */
async function memoryPerConnection(server: ServerProcess, count: number): Promise<MemoryFigures> {
  // Warm the server's code paths first so their one-time allocations do not
  // count, and measure after the same quiet period each time: V8 shrinks
  // its young generation when idle, which would otherwise hide growth.
  for (const s of await idleConnections(server.port, 50)) s.destroy();
  const quiet = () => new Promise((r) => setTimeout(r, 2500)); // Skein trims idle connections at its next sweep (1 s here)
  await quiet();
  const start = await server.memory();
  const sockets = await idleConnections(server.port, count);
  await quiet();
  const before = await server.memory();
  sockets.push(...(await idleConnections(server.port, count)));
  await quiet();
  const after = await server.memory();
  for (const s of sockets) s.destroy();
  const heap = (m: ServerMemory) => m.heapUsed + m.external;
  const settled = (m: ServerMemory) => m.rss - m.young;
  return {
    heapBytes: (heap(after) - heap(before)) / count,
    rssBytes: (settled(after) - settled(before)) / count,
    rssWithYoungBytes: (after.rss - before.rss) / count,
    rssFromStartBytes: (after.rss - start.rss) / (2 * count),
  };
}

async function freshMemory(kind: Kind, count: number, pinned: boolean): Promise<MemoryFigures> {
  const server = await startServerProcess(kind, pinned);
  try {
    return await memoryPerConnection(server, count);
  } finally {
    server.proc.removeAllListeners("exit");
    server.proc.kill();
  }
}

/** How the memory figures were taken, and the plain-RSS figures beside them. */
function memoryNote(skein: MemoryFigures, node: MemoryFigures, idle: number): string {
  const b = (x: number) => `${Math.round(x)} B`;
  const x = (a: number, c: number) => `${(a / c).toFixed(2)}x`;
  return (
    `RSS growth from ${idle} to ${2 * idle} idle connections, V8's young generation not counted; heap: ${b(skein.heapBytes)} vs ${b(node.heapBytes)}; ` +
    `plain RSS growth (young generation included): ${b(skein.rssWithYoungBytes)} vs ${b(node.rssWithYoungBytes)} (${x(skein.rssWithYoungBytes, node.rssWithYoungBytes)}); ` +
    `plain RSS counted from the warmed-up server: ${b(skein.rssFromStartBytes)} vs ${b(node.rssFromStartBytes)} (${x(skein.rssFromStartBytes, node.rssFromStartBytes)})`
  );
}

// ---- main -------------------------------------------------------------------------

interface Scenario {
  name: string;
  depth: number;
  headers: string[];
  targets: { node: number; canned?: number };
}

async function main(): Promise<void> {
  const json = flag("json");
  const seconds = option("duration", 5);
  const warmup = option("warmup", 1);
  const connections = option("connections", 256);
  const depth = option("depth", 16);
  const idle = option("idle", 5000);
  const rounds = Math.max(1, option("rounds", 3));
  const pinned = hasTaskset();
  const log = (line: string) => void (json ? process.stderr : process.stdout).write(line + "\n");
  if (!pinned) log("warning: taskset or a second core is missing; servers and wrk share the CPU");

  const scenarios: Scenario[] = [
    { name: `plaintext pipelined ${depth}`, depth, headers: [], targets: { node: 12, canned: 0.55 } },
    { name: "plaintext not pipelined", depth: 1, headers: [], targets: { node: 1.8, canned: 0.75 } },
    { name: `TechEmpower-style pipelined ${depth}`, depth, headers: TECHEMPOWER_HEADERS, targets: { node: 10 } },
  ];
  const servers = new Map<Kind, ServerProcess>();
  for (const kind of KINDS) servers.set(kind, await startServerProcess(kind, pinned));
  const results: { scenario: string; server: Kind; round: number; result: WrkResult }[] = [];
  let failed = false;
  try {
    for (const sc of scenarios) {
      for (const kind of KINDS) if (warmup > 0) await wrk(servers.get(kind)!, warmup, connections, sc.depth, sc.headers, pinned);
      for (let round = 0; round < rounds; round++) {
        for (const kind of KINDS) {
          const result = await wrk(servers.get(kind)!, seconds, connections, sc.depth, sc.headers, pinned);
          results.push({ scenario: sc.name, server: kind, round, result });
          if (result.socketErrors > 0 || result.non2xx > 0) failed = true;
          log(`${sc.name.padEnd(30)} ${kind.padEnd(7)} ${Math.round(result.rps).toString().padStart(9)} req/s  ${result.cpuUsPerRequest.toFixed(2)} CPU-us/req  latency ${result.latencyAvg}  errors ${result.socketErrors}  non-2xx ${result.non2xx}`);
        }
      }
    }
    // Fresh processes: the load runs grew the heaps, and memory freed by them
    // would hide the growth of new connections.
    // The canned server holds each socket with one listener and no other
    // state: what net.Socket and libuv cost, under any server built on them.
    const memory = {
      skein: await freshMemory("skein", idle, pinned),
      node: await freshMemory("node", idle, pinned),
      canned: await freshMemory("canned", idle, pinned),
    };
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((x, y) => x - y);
      const mid = sorted.length >> 1;
      return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
    };
    const pick = (sc: string, kind: Kind, f: (r: WrkResult) => number) =>
      median(results.filter((r) => r.scenario === sc && r.server === kind).map((r) => f(r.result)));
    const ratios = scenarios.map((sc) => {
      const rps = (k: Kind) => pick(sc.name, k, (r) => r.rps);
      const cpu = (k: Kind) => pick(sc.name, k, (r) => r.cpuUsPerRequest);
      const vsNode = rps("skein") / rps("node");
      const vsCanned = rps("skein") / rps("canned");
      return {
        scenario: sc.name,
        skein: rps("skein"), node: rps("node"), canned: rps("canned"),
        vsNode, vsCanned,
        cpuUsPerRequest: { skein: cpu("skein"), node: cpu("node"), canned: cpu("canned") },
        cpuVsNode: cpu("node") / cpu("skein"), cpuVsCanned: cpu("canned") / cpu("skein"),
        targetVsNode: sc.targets.node, targetVsCanned: sc.targets.canned ?? null,
        met: vsNode >= sc.targets.node && (sc.targets.canned === undefined || vsCanned >= sc.targets.canned),
      };
    });
    const memoryRatio = memory.skein.rssBytes / memory.node.rssBytes;
    // The shared figures (scripts/bench-figures.ts) that `pnpm bench` renders,
    // then this bench's own detail.
    const rows: FigureRow[] = [];
    for (const r of ratios) {
      rows.push({ name: `${r.scenario} vs node:http`, value: r.skein, unit: "req/s", baseline: { name: "node:http", value: r.node }, target: { ratio: r.targetVsNode, of: "node:http" } });
      rows.push({
        name: `${r.scenario} vs canned ceiling`, value: r.skein, unit: "req/s", baseline: { name: "canned net server", value: r.canned },
        ...(r.targetVsCanned === null ? {} : { target: { ratio: r.targetVsCanned, of: "canned net server" } }),
      });
    }
    rows.push({
      name: "memory per idle keep-alive connection (RSS)", value: memory.skein.rssBytes, unit: "B/conn", better: "lower",
      baseline: { name: "node:http", value: memory.node.rssBytes }, target: { ratio: 0.5, of: "node:http" },
      note: memoryNote(memory.skein, memory.node, idle),
    });
    rows.push({
      name: "memory per idle keep-alive connection vs a bare net.Socket", value: memory.skein.rssBytes, unit: "B/conn", better: "lower",
      baseline: { name: "canned net server", value: memory.canned.rssBytes },
      note: `the canned server keeps nothing per socket but one data listener (heap ${Math.round(memory.canned.heapBytes)} B): its figure is what net.Socket and libuv cost`,
    });
    const report = {
      bench: "http",
      rows,
      machine: { ...machineInfo(), pinned, loadavg: loadavg().map((x) => x.toFixed(2)).join(" ") },
      settings: { seconds, warmup, rounds, connections, depth, idleConnections: idle },
      runs: results,
      ratios,
      memory: { ...memory, rssRatio: memoryRatio, heapRatio: memory.skein.heapBytes / memory.node.heapBytes, targetRatio: 0.5, met: memoryRatio <= 0.5 },
      errors: failed,
    };
    if (json) {
      process.stdout.write(JSON.stringify(report) + "\n");
    } else {
      log("");
      log(`medians of ${rounds} rounds; CPU ratios compare server CPU time per request (higher is better for Skein)`);
      log("scenario                        skein req/s   node req/s  canned req/s   vs node (target)   vs canned (target)    CPU vs node  CPU vs canned");
      for (const r of ratios) {
        const canned = r.targetVsCanned === null ? `${r.vsCanned.toFixed(2)}x` : `${r.vsCanned.toFixed(2)}x (>= ${r.targetVsCanned})`;
        log(`${r.scenario.padEnd(30)} ${Math.round(r.skein).toString().padStart(11)} ${Math.round(r.node).toString().padStart(12)} ${Math.round(r.canned).toString().padStart(13)}   ${`${r.vsNode.toFixed(2)}x (>= ${r.targetVsNode})`.padEnd(18)} ${canned.padEnd(20)}  ${`${r.cpuVsNode.toFixed(2)}x`.padStart(11)}  ${`${r.cpuVsCanned.toFixed(2)}x`.padStart(13)}  ${r.met ? "met" : "MISSED"}`);
      }
      log("");
      log(`memory per idle keep-alive connection: skein ${Math.round(memory.skein.rssBytes)} B, node:http ${Math.round(memory.node.rssBytes)} B: ${memoryRatio.toFixed(2)}x (target <= 0.5) ${memoryRatio <= 0.5 ? "met" : "MISSED"}`);
      log(`  ${memoryNote(memory.skein, memory.node, idle)}`);
      log(`  a bare net.Socket held by the canned server: ${Math.round(memory.canned.rssBytes)} B (${Math.round(memory.canned.heapBytes)} B heap)`);
      if (failed) log("FAILED: a run had socket errors or non-2xx responses");
    }
  } finally {
    for (const s of servers.values()) {
      s.proc.removeAllListeners("exit");
      s.proc.kill();
    }
  }
  process.exitCode = failed ? 1 : 0;
}

const serveIndex = argv.indexOf("--serve");
if (serveIndex >= 0) child(argv[serveIndex + 1] as Kind);
else await main();
