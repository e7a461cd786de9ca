import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runBench } from "../../bench/run-bench.js";
import { summarize } from "../../bench/progress.js";

const dir = mkdtempSync(join(tmpdir(), "skein-run-bench-"));
function script(name: string, body: string): string {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, body);
  return file;
}
const opts = (name: string, extra: Partial<Parameters<typeof runBench>[1]> = {}) => ({
  cwd: dir, logFile: join(dir, `${name}.log`), timeoutMs: 10_000, ...extra,
});

describe("runBench", () => {
  it("passes --json, parses the figures and copies stderr lines to the log and the callback", async () => {
    const s = script("good", `
      process.stderr.write("warming up\\nmeasuring\\n");
      const rows = [{ name: "echo", value: 10, unit: "msg/s", baseline: { name: "ws", value: 5 } }];
      console.log(process.argv.includes("--json") ? JSON.stringify({ bench: "ws", rows }) : "table");
    `);
    const lines: string[] = [];
    const out = await runBench({ name: "ws", script: s }, opts("good", { onLine: (l) => lines.push(l) }));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.exitCode).toBe(0);
    expect(out.figures.rows[0]!.baseline!.value).toBe(5);
    expect(lines).toEqual(["warming up", "measuring"]);
    expect(readFileSync(join(dir, "good.log"), "utf8")).toBe("warming up\nmeasuring\n");
    expect(summarize(out)).toMatch(/^ws done in 0:0\d: 1 figures, 0\/0 targets met \[2x\]$/);
  });

  it("keeps the figures of a bench that exits non-zero and reports the code", async () => {
    const s = script("errors", `console.log(JSON.stringify({ bench: "http", rows: [] })); process.exitCode = 3;`);
    const out = await runBench({ name: "http", script: s }, opts("errors"));
    expect(out).toMatchObject({ ok: true, exitCode: 3 });
  });

  it("fails a bench that prints no figures, with its stderr in the error", async () => {
    const s = script("crash", `console.error("Error: listen EADDRINUSE"); process.exit(1);`);
    const out = await runBench({ name: "core", script: s }, opts("crash"));
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.exitCode).toBe(1);
    expect(out.error).toContain("exit code 1");
    expect(out.error).toContain("EADDRINUSE");
    expect(summarize(out)).toMatch(/^core FAILED after 0:0\d: exit code 1;/);
  });

  it("kills a bench that runs past its timeout", async () => {
    const s = script("hang", `setInterval(() => {}, 1000);`);
    const out = await runBench({ name: "load", script: s }, opts("hang", { timeoutMs: 300 }));
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.error).toMatch(/^timed out after 0.3 s/);
  });
});
