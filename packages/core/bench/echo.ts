/**
 * TCP echo over loopback: a Skein echo server (`serve` + `recv`/`sendAll`)
 * against a plain `net` echo server, each in its own child process pinned to
 * core 0, driven by the same plain `net` load generator pinned to core 1
 * (`taskset`). Each of the 64 connections sends a 16 KiB message, waits for
 * all of it to come back, and repeats.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, connect, type Socket } from "node:net";
import { main, serve, type Conn } from "../src/index.js";
import { progress } from "./report.js";

export interface EchoOptions {
  conns: number;
  size: number;
  warmupMs: number;
  ms: number;
  rounds: number;
}

export interface EchoResult {
  /** Best throughput, MiB/s. */
  skein: number;
  net: number;
  /** Server CPU time (user + system) per GiB echoed, over all measured windows. */
  cpuMsPerGiB: { skein: number; net: number };
  pinned: boolean;
  options: EchoOptions;
}

// ---- the two servers (child role) ------------------------------------------------

function* echo(conn: Conn): Generator<unknown, void, any> {
  for (;;) {
    const data = yield* conn.recv();
    if (data.length === 0) return;
    yield* conn.sendAll(data);
  }
}

/** Runs an echo server and prints `PORT <n>`; exits on SIGTERM or when its stdin closes (the bench died). */
export async function echoServer(impl: string): Promise<void> {
  process.stdin.on("end", () => process.exit(0)).resume();
  if (impl === "skein") {
    await main(serve({ port: 0, host: "127.0.0.1" , onListening: (a) => process.stdout.write(`PORT ${a.port}\n`) }, echo));
    return;
  }
  const server = createServer((s) => {
    s.setNoDelay(true);
    s.on("data", (d) => s.write(d));
    s.on("error", () => s.destroy());
  });
  server.listen(0, "127.0.0.1", () => {
    const a = server.address();
    process.stdout.write(`PORT ${typeof a === "object" && a ? a.port : 0}\n`);
  });
  process.on("SIGTERM", () => process.exit(0));
}

// ---- the load generator (child role) ---------------------------------------------

/** Drives `conns` connections for warm-up + measurement; prints `{ bytes, ms }` as JSON. */
export async function echoLoad(port: number, o: EchoOptions): Promise<void> {
  const message = Buffer.alloc(o.size, 0x61);
  let bytes = 0;
  let stopping = false;
  const sockets: Socket[] = [];
  await Promise.all(
    Array.from({ length: o.conns }, () =>
      new Promise<void>((resolve, reject) => {
        const s = connect(port, "127.0.0.1");
        s.setNoDelay(true);
        let pending = 0;
        s.on("data", (d: Buffer) => {
          bytes += d.length;
          pending += d.length;
          if (pending >= o.size && !stopping) {
            pending -= o.size;
            s.write(message);
          }
        });
        s.once("connect", () => {
          sockets.push(s);
          s.write(message);
          resolve();
        });
        s.once("error", reject);
      }),
    ),
  );
  await new Promise((r) => setTimeout(r, o.warmupMs));
  bytes = 0;
  process.stdout.write("MEASURING\n"); // the parent samples the server's CPU time from here
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, o.ms));
  const got = bytes;
  const ms = performance.now() - t0;
  // Close gracefully (FIN, then read what is still in flight) so neither
  // server sees a reset.
  stopping = true;
  await Promise.all(sockets.map((s) => new Promise((resolve) => {
    s.once("close", resolve);
    s.end();
  })));
  process.stdout.write(JSON.stringify({ bytes: got, ms }) + "\n");
}

// ---- orchestration (parent) -------------------------------------------------------

function hasTaskset(): boolean {
  const r = spawnSync("taskset", ["-c", "0", "true"], { stdio: "ignore" });
  return r.status === 0;
}

function launch(core: number, pinned: boolean, args: string[]): ChildProcess {
  const argv = [process.execPath, process.argv[1]!, ...args];
  // stdin is a pipe so a server exits if this process dies without killing it.
  const stdio: ["pipe", "pipe", "inherit"] = ["pipe", "pipe", "inherit"];
  return pinned ? spawn("taskset", ["-c", String(core), ...argv], { stdio }) : spawn(argv[0]!, argv.slice(1), { stdio });
}

/** CPU time (user + system, ms) a process has used so far, from /proc; NaN where there is no /proc. */
function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ (100/s)
  } catch {
    return NaN;
  }
}

/** One load run against `server`: its throughput and the server's CPU time in the measured window. */
async function loadOnce(server: ChildProcess, port: number, pinned: boolean, o: EchoOptions): Promise<{ mib: number; cpuMs: number }> {
  const child = launch(1, pinned, ["--role=echo-load", `--port=${port}`, `--conns=${o.conns}`, `--size=${o.size}`, `--warmup-ms=${o.warmupMs}`, `--ms=${o.ms}`]);
  const lines = readLines(child);
  await lines.next("MEASURING");
  const cpu0 = cpuMs(server.pid!);
  const r = JSON.parse(await lines.next("{")) as { bytes: number; ms: number };
  const cpu = cpuMs(server.pid!) - cpu0; // includes the short graceful close after the window
  await new Promise((resolve) => child.once("exit", resolve));
  return { mib: r.bytes / (1024 * 1024) / (r.ms / 1000), cpuMs: cpu };
}

/** Waits for successive stdout lines of `child` by prefix. */
function readLines(child: ChildProcess): { next(prefix: string): Promise<string> } {
  const seen: string[] = [];
  let partial = "";
  let waiting: { prefix: string; resolve: (line: string) => void } | null = null;
  const offer = () => {
    if (waiting === null) return;
    const i = seen.findIndex((l) => l.startsWith(waiting!.prefix));
    if (i < 0) return;
    const [line] = seen.splice(0, i + 1).slice(-1);
    const w = waiting;
    waiting = null;
    w.resolve(line!);
  };
  child.stdout!.setEncoding("utf8").on("data", (d: string) => {
    const parts = (partial + d).split("\n");
    partial = parts.pop()!;
    seen.push(...parts);
    offer();
  });
  return {
    next: (prefix) =>
      new Promise((resolve, reject) => {
        waiting = { prefix, resolve };
        child.once("exit", (code) => reject(new Error(`load generator exited (${code}) before printing ${prefix}`)));
        offer();
      }),
  };
}

/** Best-of-`rounds` echo throughput (MiB/s) for both servers, rounds interleaved. */
export async function echoFigures(o: EchoOptions): Promise<EchoResult> {
  const pinned = hasTaskset();
  if (!pinned) progress("echo: taskset not available, running unpinned");
  const servers = { skein: launch(0, pinned, ["--role=echo-server", "--impl=skein"]), net: launch(0, pinned, ["--role=echo-server", "--impl=net"]) };
  try {
    const port = async (server: ChildProcess) => Number((await readLines(server).next("PORT ")).slice("PORT ".length));
    const ports = { skein: await port(servers.skein), net: await port(servers.net) };
    const best = { skein: 0, net: 0 };
    const cpu = { skein: 0, net: 0 };
    const gib = { skein: 0, net: 0 };
    for (let round = 1; round <= o.rounds; round++) {
      for (const impl of ["net", "skein"] as const) {
        const { mib, cpuMs } = await loadOnce(servers[impl], ports[impl], pinned, o);
        progress(`echo round ${round} ${impl}: ${mib.toFixed(0)} MiB/s, server CPU ${((cpuMs / o.ms) * 100).toFixed(0)}%`);
        best[impl] = Math.max(best[impl], mib);
        cpu[impl] += cpuMs;
        gib[impl] += (mib * o.ms) / 1000 / 1024;
      }
    }
    const cpuMsPerGiB = { skein: cpu.skein / gib.skein, net: cpu.net / gib.net };
    return { ...best, cpuMsPerGiB, pinned, options: o };
  } finally {
    for (const s of Object.values(servers)) s.kill("SIGTERM");
  }
}
