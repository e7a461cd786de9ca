/**
 * `pnpm bench:ws`: Skein's WebSocket server against a plain `ws` server, in
 * one run, each server pinned to core 0 and the load generator to core 1
 * (`taskset`). Figures:
 *
 * - echo: 64 connections each keeping 16 messages of 32 bytes in flight (msg/s);
 * - broadcast: one 64-byte message to 1,000 subscribers, a publisher keeping
 *   64 broadcasts in flight (deliveries/s) — Skein's Hub against a loop of
 *   `ws.send` over the subscribers;
 * - memory per idle connection: the RSS growth, after a full GC, from 5,000
 *   idle connections to 10,000 — the cost of one more connection. Counted
 *   from the server's start instead, the figure would also hold V8's young
 *   generation growing to its maximum (about 28 MB here, for either server
 *   alike), a one-time cost that says nothing per connection; that figure
 *   is printed too.
 *
 * Throughput runs alternate between the servers and keep each one's best,
 * so a burst of noise from other processes on the machine does not decide
 * the ratio. `--json` prints the figures as one JSON object on stdout
 * (progress goes to stderr); `--quick` shortens every run; `--only=echo,broadcast,memory`
 * runs some of the figures.
 *
 * The same file is every process of the benchmark: `--role=` selects one.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import { run } from "@skein/core";
import { bcastLoad, echoLoad, idleLoad } from "./load.js";
import { skeinServer, wsServer } from "./servers.js";

const args = new Map(process.argv.slice(2).map((a) => (a.includes("=") ? (a.slice(2).split("=", 2) as [string, string]) : [a.slice(2), "true"])));
const num = (name: string, fallback: number) => Number(args.get(name) ?? fallback);

// ---- roles -------------------------------------------------------------------

async function role(name: string): Promise<void> {
  const port = num("port", 0);
  const window = { warmupMs: num("warmup-ms", 1000), durationMs: num("duration-ms", 3000) };
  if (name === "server") return args.get("impl") === "skein" ? skeinServer() : wsServer();
  if (name === "echo") await run(echoLoad(port, { ...window, conns: num("conns", 64), depth: num("depth", 16), size: num("size", 32) }));
  else if (name === "bcast") await run(bcastLoad(port, { ...window, subs: num("subs", 1000), inflight: num("inflight", 64), size: num("size", 64) }));
  else if (name === "idle") await run(idleLoad(port, num("conns", 5000)));
  process.exit(0);
}

// ---- orchestration ------------------------------------------------------------

const SELF = fileURLToPath(import.meta.url);
const pinned = spawnSync("taskset", ["-c", "0", "true"], { stdio: "ignore" }).status === 0;

function node(core: number, roleArgs: string[]): ChildProcess {
  const argv = ["--expose-gc", SELF, ...roleArgs];
  return pinned ? spawn("taskset", ["-c", String(core), process.execPath, ...argv], { stdio: ["pipe", "pipe", "inherit"] }) : spawn(process.execPath, argv, { stdio: ["pipe", "pipe", "inherit"] });
}

/** The next JSON line a child prints. */
function nextJson<T>(lines: Interface, child: ChildProcess, timeoutMs = 120_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error("timed out waiting for a child process")), timeoutMs);
    const onLine = (line: string) => {
      if (line.startsWith("{")) done(null, JSON.parse(line) as T);
    };
    const onExit = (code: number | null) => done(new Error(`child exited (${code}) before reporting`));
    const done = (err: Error | null, value?: T) => {
      clearTimeout(timer);
      lines.off("line", onLine);
      child.off("exit", onExit);
      if (err) reject(err);
      else resolve(value!);
    };
    lines.on("line", onLine);
    child.once("exit", onExit);
  });
}

class Server {
  readonly child: ChildProcess;
  readonly lines: Interface;
  port = 0;
  constructor(readonly impl: "skein" | "ws") {
    this.child = node(0, [`--role=server`, `--impl=${impl}`]);
    this.lines = createInterface({ input: this.child.stdout! });
  }
  async start(): Promise<this> {
    this.port = (await nextJson<{ port: number }>(this.lines, this.child)).port;
    return this;
  }
  async memory(): Promise<{ rss: number; heapUsed: number; external: number }> {
    const reply = nextJson<{ rss: number; heapUsed: number; external: number }>(this.lines, this.child);
    this.child.stdin!.write("mem\n");
    return reply;
  }
  /** CPU time (user + system) the server has used, in ms, from /proc. */
  cpuMs(): number {
    try {
      // taskset execs node, so the child's pid is node's own.
      const fields = readFileSync(`/proc/${this.child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks (USER_HZ = 100)
    } catch {
      return NaN;
    }
  }
  async stop(): Promise<void> {
    this.child.kill("SIGTERM");
    await new Promise((r) => this.child.once("exit", r));
  }
}

/** Runs a load generator against `server`; the server's CPU use is sampled over the load's measurement window. */
async function load(server: Server, roleArgs: string[]): Promise<Best> {
  const child = node(1, [...roleArgs, `--port=${server.port}`]);
  const exited = new Promise((r) => child.once("exit", r));
  const lines = createInterface({ input: child.stdout! });
  await nextJson<{ phase: string }>(lines, child);
  const cpu0 = server.cpuMs();
  const t0 = performance.now();
  const result = await nextJson<{ rate: number; loadCpu: number }>(lines, child);
  const serverCpu = (server.cpuMs() - cpu0) / (performance.now() - t0);
  await exited;
  return { rate: result.rate, loadCpu: result.loadCpu, serverCpu };
}

/** One figure, in the shape apps/demo/bench/figures.ts reads. */
interface Row {
  name: string;
  value: number;
  unit: string;
  better?: "higher" | "lower";
  baseline: { name: string; value: number };
  ratio?: number;
  target: { ratio: number; of: string };
  note: string;
}

interface Best {
  rate: number;
  loadCpu: number;
  serverCpu: number;
}

/** Runs `roleArgs` against each server `rounds` times, alternating; keeps each server's best. */
async function throughput(servers: Server[], roleArgs: string[], rounds: number, label: string): Promise<Map<string, Best>> {
  const best = new Map<string, Best>();
  for (let r = 0; r < rounds; r++) {
    for (const s of servers) {
      const res = await load(s, roleArgs);
      progress(`${label} ${s.impl} round ${r + 1}: ${fmt(res.rate)}/s (server cpu ${(res.serverCpu * 100).toFixed(0)}%, load cpu ${(res.loadCpu * 100).toFixed(0)}%)`);
      if (res.loadCpu > 0.9) progress(`  the load generator used ${(res.loadCpu * 100).toFixed(0)}% of its core: it may be the bottleneck`);
      const prev = best.get(s.impl);
      if (prev === undefined || res.rate > prev.rate) best.set(s.impl, res);
    }
  }
  return best;
}

interface MemoryFigures {
  /** RSS per connection from `conns` to twice as many. */
  rss: number;
  /** JS heap + external per connection, likewise. */
  heap: number;
  /** RSS growth per connection from the server's start to 2 × `conns`. */
  rssFromStart: number;
}

async function memoryPerConnection(impl: "skein" | "ws", conns: number): Promise<MemoryFigures> {
  const s = await new Server(impl).start();
  const children: ChildProcess[] = [];
  const open = async () => {
    const child = node(1, ["--role=idle", `--port=${s.port}`, `--conns=${conns}`]);
    children.push(child);
    await nextJson(createInterface({ input: child.stdout! }), child);
    await new Promise((r) => setTimeout(r, 500));
    return s.memory();
  };
  try {
    const m0 = await s.memory();
    const m1 = await open();
    const m2 = await open();
    const heap = (m: { heapUsed: number; external: number }) => m.heapUsed + m.external;
    return { rss: (m2.rss - m1.rss) / conns, heap: (heap(m2) - heap(m1)) / conns, rssFromStart: (m2.rss - m0.rss) / (2 * conns) };
  } finally {
    for (const child of children) child.kill("SIGKILL");
    await s.stop();
  }
}

const fmt = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0));
const progress = (line: string) => process.stderr.write(`bench:ws ${line}\n`);

async function orchestrate(): Promise<void> {
  const json = args.has("json");
  const quick = args.has("quick");
  const only = args.get("only")?.split(",");
  const window = quick ? ["--warmup-ms=300", "--duration-ms=1000"] : ["--warmup-ms=1000", "--duration-ms=3000"];
  const rounds = quick ? 1 : 3;
  const idleConns = quick ? 1000 : 5000;
  if (!pinned) progress("taskset not found: processes are not pinned to cores");

  const want = (figure: string) => only === undefined || only.includes(figure);
  let echo: Map<string, Best> | null = null;
  let bcast: Map<string, Best> | null = null;
  if (want("echo") || want("broadcast")) {
    const servers = [await new Server("ws").start(), await new Server("skein").start()];
    try {
      if (want("echo")) echo = await throughput(servers, ["--role=echo", "--conns=64", "--depth=16", "--size=32", ...window], rounds, "echo");
      if (want("broadcast")) bcast = await throughput(servers, ["--role=bcast", "--subs=1000", "--inflight=64", "--size=64", ...window], rounds, "broadcast");
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  }
  let memWs: MemoryFigures | null = null;
  let memSkein: MemoryFigures | null = null;
  if (want("memory")) {
    memWs = await memoryPerConnection("ws", idleConns);
    memSkein = await memoryPerConnection("skein", idleConns);
    const show = (m: MemoryFigures) => `${m.rss.toFixed(0)} B/conn rss (${m.heap.toFixed(0)} heap; ${m.rssFromStart.toFixed(0)} rss from start)`;
    progress(`memory: ws ${show(memWs)}, skein ${show(memSkein)}`);
  }

  // Other processes may share the server's core; CPU time per message is
  // the figure that does not depend on how much of the core a server got.
  const cpuNote = (m: Map<string, Best>) => {
    const sk = m.get("skein")!;
    const ws = m.get("ws")!;
    const perMsg = (b: Best) => ((b.serverCpu / b.rate) * 1e6).toFixed(2);
    return (
      `server CPU ${(sk.serverCpu * 100).toFixed(0)}% (ws ${(ws.serverCpu * 100).toFixed(0)}%), ${perMsg(sk)} µs per message (ws ${perMsg(ws)} µs); ` +
      `load generator CPU ${(sk.loadCpu * 100).toFixed(0)}% (ws ${(ws.loadCpu * 100).toFixed(0)}%); best of ${rounds}`
    );
  };
  const rows: Row[] = [];
  if (echo !== null) {
    rows.push({
      name: "echo, 64 conns × 16 in flight × 32 B",
      value: Math.round(echo.get("skein")!.rate),
      unit: "msg/s",
      baseline: { name: "ws", value: Math.round(echo.get("ws")!.rate) },
      target: { ratio: 1.5, of: "ws" },
      note: cpuNote(echo),
    });
  }
  if (bcast !== null) {
    rows.push({
      name: "broadcast 64 B to 1,000 subscribers",
      value: Math.round(bcast.get("skein")!.rate),
      unit: "msg/s",
      baseline: { name: "ws.send loop", value: Math.round(bcast.get("ws")!.rate) },
      target: { ratio: 3, of: "ws.send loop" },
      note: `deliveries per second, publisher keeps 64 broadcasts in flight; ${cpuNote(bcast)}`,
    });
  }
  if (memWs !== null && memSkein !== null) {
    rows.push({
      name: "memory per idle connection",
      value: Math.round(memSkein.rss),
      unit: "B/conn",
      better: "lower",
      baseline: { name: "ws", value: Math.round(memWs.rss) },
      target: { ratio: 1.0, of: "ws" },
      note:
        `RSS growth after a full GC from ${idleConns} to ${2 * idleConns} idle connections (JS heap + external: Skein ${memSkein.heap.toFixed(0)} B, ws ${memWs.heap.toFixed(0)} B; ` +
        `counted from the server's start, young generation growth included: Skein ${memSkein.rssFromStart.toFixed(0)} B, ws ${memWs.rssFromStart.toFixed(0)} B)`,
    });
  }
  for (const r of rows) r.ratio = Math.round((r.value / r.baseline.value) * 100) / 100;
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memoryBytes: totalmem(), node: process.version, os: `${process.platform} ${process.arch}`, pinned };

  if (json) {
    console.log(JSON.stringify({ bench: "ws", rows, machine }));
    return;
  }
  console.log(`\n@skein/websocket vs plain ws — server on core 0, load on core 1${pinned ? "" : " (not pinned)"}\n`);
  console.log(`${"figure".padEnd(40)} ${"skein".padStart(12)} ${"baseline".padStart(20)} ${"ratio".padStart(7)}  target`);
  for (const r of rows) {
    const ratio = r.ratio!;
    const ok = (r.better ?? "higher") === "lower" ? ratio <= r.target.ratio : ratio >= r.target.ratio;
    console.log(`${r.name.padEnd(40)} ${`${fmt(r.value)} ${r.unit}`.padStart(12)} ${`${fmt(r.baseline.value)} (${r.baseline.name})`.padStart(20)} ${`${ratio.toFixed(2)}x`.padStart(7)}  ${(r.better ?? "higher") === "lower" ? "≤" : "≥"}${r.target.ratio}x ${ok ? "met" : "MISSED"}`);
  }
  for (const r of rows) console.log(`  ${r.name}: ${r.note}`);
}

const roleName = args.get("role");
if (roleName !== undefined) void role(roleName);
else
  orchestrate().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
