// skein-load as a program: the CLI bundled the way scripts/build.mjs does
// it, run against node:http.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoadReport } from "../../src/load/index.js";
import { closedPort, nodeServer, type TestServer } from "../client/servers.js";

const exec = promisify(execFile);
let dir: string;
let cli: string;
let server: TestServer;
let seen = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "skein-load-cli-"));
  cli = join(dir, "skein-load.mjs");
  await build({
    entryPoints: [fileURLToPath(new URL("../../src/load/cli.ts", import.meta.url))], outfile: cli, bundle: true, platform: "node",
    format: "esm", target: "node20", conditions: ["skein-source"], logLevel: "silent",
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  });
  server = await nodeServer((req, res) => {
    seen++;
    res.setHeader("x-got", String(req.headers["x-k"]));
    res.end(req.method === "POST" ? "posted" : "hello");
  });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI; resolves with its exit code and output. */
async function skeinLoad(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [cli, ...args], { timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("skein-load CLI", () => {
  it("--json prints one report object, and the server saw every counted request", async () => {
    const before = seen;
    const r = await skeinLoad(server.url, "-c", "4", "-p", "8", "-n", "500", "-m", "POST", "-b", "x", "-H", "x-k: v", "--expect-body", "posted", "--json");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as LoadReport;
    expect([report.requests, report.errorTotal, seen - before]).toEqual([500, 0, 500]);
    expect(report.latencyMs.p99).toBeGreaterThan(0);
  });

  it("prints a text report and a progress line on stderr", async () => {
    const r = await skeinLoad(server.url, "-c", "2", "-d", "2s", "--expect-body", "hello");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/req\/s {6}[\d,]+/);
    expect(r.stdout).toContain("errors     none");
    expect(r.stderr).toMatch(/running +1s .* req\/s/);
  });

  it("exits 1 when nothing passed its checks, 2 for a bad command line", async () => {
    const wrong = await skeinLoad(server.url, "-n", "10", "--expect-body", "nope", "-q");
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain("body: 10");
    const bad = await skeinLoad(server.url, "-c", "lots");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("-c expects a whole number");
    const missing = await skeinLoad(server.url, "-b", "@/no/such/file");
    expect(missing.code).toBe(2);
    expect(missing.stderr.split("\n")[0]).toBe('skein-load: -b @/no/such/file: cannot read "/no/such/file" (ENOENT)');
    expect(missing.stderr).not.toMatch(/\n\s+at /); // no stack trace
    const help = await skeinLoad("--help");
    expect([help.code, help.stdout.startsWith("usage: skein-load URL")]).toEqual([0, true]);
  });

  it("with -n, ends and exits 1 when nothing is answered for the request timeout (a server that is down)", async () => {
    const down = await closedPort();
    const r = await skeinLoad(`http://127.0.0.1:${down}/`, "-n", "10", "--timeout", "500ms", "--json", "-q");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as LoadReport;
    expect([report.requests, report.stoppedEarly]).toEqual([0, "no answer for 0.5 s (0 of 10 answered)"]);
    expect(report.errors.connect).toBeGreaterThan(0);
  });
});
