/**
 * Runs a TypeScript snippet in a real child `node` process: bundled with
 * esbuild from the workspace sources (the "skein-source" condition), so
 * process-level behaviour (exit codes, signals, beforeExit) is tested for real.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const coreIndex = join(here, "../../src/index.ts");

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Bundles `source` (which may `import ... from "@skein/core"`) into a temp .mjs file and returns its path. */
export async function bundle(source: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "skein-child-"));
  const entry = join(dir, "main.ts");
  writeFileSync(entry, source);
  const out = join(dir, "main.mjs");
  await build({
    entryPoints: [entry],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    alias: { "@skein/core": coreIndex },
    logLevel: "error",
  });
  return out;
}

/** Starts the bundled snippet; the caller may signal it before awaiting `done`. */
export async function startChild(source: string, args: string[] = []): Promise<{ child: ChildProcess; done: Promise<ChildResult> }> {
  const file = await bundle(source);
  const child = spawn(process.execPath, [...args, file], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const done = new Promise<ChildResult>((resolve) => {
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs the snippet to completion. */
export async function runChild(source: string, args: string[] = []): Promise<ChildResult> {
  return (await startChild(source, args)).done;
}

/** Resolves once the child has printed `text` on stdout. */
export function waitForOutput(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const onData = (d: Buffer) => {
      seen += d;
      if (seen.includes(text)) {
        child.stdout!.off("data", onData);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.once("close", () => reject(new Error(`child exited before printing ${JSON.stringify(text)}; saw ${JSON.stringify(seen)}`)));
  });
}
