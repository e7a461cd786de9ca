/**
 * Helpers for tests that run a real child `node` process: the core package is
 * bundled once with esbuild into a temporary directory, and each test writes
 * a small .mjs script that imports it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const coreIndex = join(dirname(fileURLToPath(import.meta.url)), "../../src/index.ts");

export interface Fixture {
  dir: string;
  /** Path of the bundled @skein/core to import from scripts. */
  core: string;
  cleanup(): void;
}

/** Bundles @skein/core into a fresh temporary directory. */
export async function bundleCore(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), "skein-process-"));
  const core = join(dir, "core.mjs");
  await build({ entryPoints: [coreIndex], outfile: core, bundle: true, platform: "node", format: "esm", target: "node20", logLevel: "error" });
  return { dir, core, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A running child process with its output collected. */
export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout contains `text`. */
  waitFor(text: string): Promise<void>;
  /** Resolves with the exit code (or the signal that killed it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Writes `source` (an ES module; `CORE` is replaced by the bundle's path) and runs it with node. */
export function runScript(fx: Fixture, name: string, source: string, nodeArgs: string[] = []): Child {
  const file = join(fx.dir, name);
  writeFileSync(file, source.replaceAll("CORE", JSON.stringify(fx.core)));
  const proc = spawn(process.execPath, [...nodeArgs, file], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const waiters: { text: string; resolve: () => void }[] = [];
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (out.includes(waiters[i]!.text)) waiters.splice(i, 1)[0]!.resolve();
    }
  });
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    waitFor: (text) =>
      out.includes(text)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            waiters.push({ text, resolve });
            void exited.then(({ code }) => reject(new Error(`child exited (${code}) before printing ${JSON.stringify(text)}; stdout: ${out}; stderr: ${err}`)));
          }),
    exited,
  };
}
