/**
 * Starts the demo as users do — `node apps/demo/dist/main.js` — as a child
 * process on a free port, and waits for the line announcing its URL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleAtomically } from "../../../../scripts/build.mjs";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const DEMO_MAIN = join(ROOT, "apps/demo/dist/main.js");

let built: Promise<void> | undefined;

/** Bundles apps/demo/src/main.ts once per test file (atomically; parallel files are safe). */
export function buildDemo(): Promise<void> {
  built ??= bundleAtomically("apps/demo/src/main.ts", "apps/demo/dist/main.js");
  return built;
}

export interface Demo {
  child: ChildProcess;
  /** `http://127.0.0.1:PORT` */
  url: string;
  host: string;
  port: number;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends SIGTERM (unless already exited) and waits for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  args?: string[];
  env?: Record<string, string>;
  /** The script to run; the built demo by default. */
  entry?: string;
  /** How long to wait for the URL line. */
  readyTimeoutMs?: number;
}

/** The `http://HOST:PORT` the demo prints once it accepts connections. */
export const URL_LINE = /http:\/\/([^\s/:]+|\[[^\]]+\]):(\d+)/;

/** Spawns the demo (default `--port 0`) and resolves once it printed its URL. */
export async function startDemo(opts: StartOptions = {}): Promise<Demo> {
  if (!opts.entry) await buildDemo();
  const args = opts.args ?? ["--port", "0"];
  const child = spawn(process.execPath, [opts.entry ?? DEMO_MAIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<{ host: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo printed no URL within ${opts.readyTimeoutMs ?? 15_000} ms:\n${out}`)), opts.readyTimeoutMs ?? 15_000);
    const onData = (d: Buffer) => {
      out += d.toString("utf8");
      const m = URL_LINE.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ host: m[1]!, port: Number(m[2]) });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`demo exited (code ${code}, signal ${signal}) before printing its URL:\n${out}`));
    });
  });
  let where: { host: string; port: number };
  try {
    where = await ready;
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return {
    child,
    ...where,
    url: `http://${where.host}:${where.port}`,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const result = await exited;
      clearTimeout(kill);
      return result;
    },
  };
}
