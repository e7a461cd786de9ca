/**
 * Runs the example programs a README quotes (the packages' tests use it):
 * bundles one with esbuild from the sources, starts it on a free port and
 * reads the port from its `listening on http://host:port` line, or runs it
 * to its end.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, expect, it } from "vitest";

/** Example programs in `dir` (an absolute path), bundled into a scratch directory. */
export class ExampleRunner {
  readonly #dir: string;
  readonly #out = mkdtempSync(join(tmpdir(), "skein-examples-"));
  readonly #children: ChildProcess[] = [];

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The names (without `.ts`) whose files `readme` does not quote verbatim. */
  notQuoted(readme: string, names: readonly string[]): string[] {
    return names.filter((name) => !readme.includes(readFileSync(join(this.#dir, `${name}.ts`), "utf8").trim()));
  }

  /** Type-checks the examples with their tsconfig.json (rejects with tsc's output). */
  async typeCheck(): Promise<void> {
    const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));
    await promisify(execFile)(process.execPath, [tsc, "-p", join(this.#dir, "tsconfig.json")]);
  }

  /** Bundles `<name>.ts`; returns the bundle's path. */
  async bundle(name: string): Promise<string> {
    const out = join(this.#out, `${name}.mjs`);
    await build({
      entryPoints: [join(this.#dir, `${name}.ts`)], outfile: out, bundle: true, platform: "node", format: "esm",
      target: "node20", conditions: ["skein-source"], logLevel: "silent",
      banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
    });
    return out;
  }

  /** Starts a server example with PORT=0; resolves with its port. What it prints collects in `output`. */
  async start(name: string, output: string[] = []): Promise<number> {
    const child = spawn(process.execPath, [await this.bundle(name)], { env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "inherit"] });
    this.#children.push(child);
    return new Promise((resolve, reject) => {
      child.stdout!.on("data", (d) => {
        output.push(String(d));
        const m = /listening on http:\/\/[^:]+:(\d+)/.exec(output.join(""));
        if (m) resolve(Number(m[1]));
      });
      child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
    });
  }

  /** Runs `<name>.ts` to its end (with `env` added); resolves with what it printed. */
  async output(name: string, env: Record<string, string> = {}): Promise<string> {
    const { stdout } = await promisify(execFile)(process.execPath, [await this.bundle(name)], { env: { ...process.env, ...env } });
    return stdout;
  }

  /** Stops every example started and removes the bundles. */
  close(): void {
    for (const c of this.#children) c.kill();
    rmSync(this.#out, { recursive: true, force: true });
  }
}

/**
 * For a package's `test/examples.test.ts` (pass its `import.meta.url`): a
 * runner for the package's `examples/`, stopped after the file's tests, and
 * the checks every package's examples share — the README quotes each of
 * `names` verbatim, and they type-check. Call it inside a `describe`.
 */
export function readmeExamples(testFile: string, names: readonly string[]): ExampleRunner {
  const runner = new ExampleRunner(fileURLToPath(new URL("../examples", testFile)));
  const readme = readFileSync(fileURLToPath(new URL("../README.md", testFile)), "utf8");
  afterAll(() => runner.close());
  it("quotes every example file verbatim", () => {
    expect(runner.notQuoted(readme, names)).toEqual([]);
  });
  it("type-check", () => runner.typeCheck(), 60_000);
  return runner;
}
