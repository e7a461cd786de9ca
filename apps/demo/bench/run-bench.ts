/**
 * Runs one package benchmark as a child process with `--json` and turns what
 * it prints into a {@link BenchOutcome}. The child's stderr (its own progress
 * and tables) goes to a log file and its last line is offered to a callback
 * so the orchestrator can show it in its progress line.
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { parseFigures, type BenchOutcome } from "./figures.js";

export interface BenchSpec {
  /** Short name, e.g. `"http"`. */
  name: string;
  /** The built script, absolute path. */
  script: string;
  /** A missing optional bench is left out of the report instead of failing it. */
  optional?: boolean;
}

export interface RunOptions {
  cwd: string;
  /** Where the child's stderr is copied. */
  logFile: string;
  /** Kill the child after this long (ms). */
  timeoutMs: number;
  /** Called with each complete line the child writes to stderr. */
  onLine?: (line: string) => void;
}

/** The last `max` characters of a text, for error messages. */
function tail(text: string, max = 2000): string {
  return text.length <= max ? text : `…${text.slice(-max)}`;
}

/** Runs `node <script> --json` and parses its figures. Never rejects. */
export function runBench(spec: BenchSpec, opts: RunOptions): Promise<BenchOutcome> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  return new Promise((resolve) => {
    const log = createWriteStream(opts.logFile);
    const child = spawn(process.execPath, [spec.script, "--json"], {
      cwd: opts.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, FORCE_COLOR: "0" },
    });
    let stdout = "";
    let stderr = "";
    let partial = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      log.write(d);
      stderr += d;
      if (stderr.length > 64_000) stderr = stderr.slice(-32_000);
      const lines = (partial + d).split(/\r?\n|\r/);
      partial = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) opts.onLine?.(line);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    }, opts.timeoutMs);
    const finish = (outcome: BenchOutcome) => {
      clearTimeout(timer);
      log.end();
      resolve(outcome);
    };
    child.on("error", (err) => finish({ bench: spec.name, ok: false, error: String(err), seconds: seconds(), exitCode: null }));
    child.on("close", (code, signal) => {
      if (timedOut) {
        finish({ bench: spec.name, ok: false, error: `timed out after ${opts.timeoutMs / 1000} s\n${tail(stderr)}`, seconds: seconds(), exitCode: code });
        return;
      }
      try {
        const figures = parseFigures(stdout);
        // A bench that printed figures but exited non-zero (e.g. socket errors)
        // keeps its figures; the exit code is reported next to them.
        finish({ bench: spec.name, ok: true, figures, seconds: seconds(), exitCode: code ?? -1 });
      } catch (err) {
        const why = signal ? `killed by ${signal}` : `exit code ${code}`;
        finish({
          bench: spec.name,
          ok: false,
          error: `${why}; ${(err as Error).message}\n${tail(stderr || stdout)}`,
          seconds: seconds(),
          exitCode: code,
        });
      }
    });
  });
}
