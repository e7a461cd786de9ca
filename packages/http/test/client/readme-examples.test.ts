// The README's Client and Load generator examples are the files in
// examples/, verbatim; each one type-checks (they are under test/, which
// the workspace tsconfig includes), bundles, and runs against a Skein
// server, printing what the README says.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Router, type Request, type Response } from "../../src/index.js";
import { startServer, type Running } from "../helpers/server.js";

const exec = promisify(execFile);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const readme = readFileSync(here("../../README.md"), "utf8");
const names = ["client-basics", "client-upload", "load-api"];
let dir: string;
let server: Running;

const app = new Router()
  .get("/hello", function* (_req: Request, res: Response) {
    return res.text(200, "Hello, World!");
  })
  .get("/item/:n", function* (req: Request, res: Response) {
    return res.text(200, req.params.n!);
  })
  .post("/echo", echo)
  .put("/echo", echo)
  .app();

function* echo(req: Request, res: Response) {
  res.start(200, { "content-type": req.headers.get("content-type") ?? "application/octet-stream" });
  for (let chunk; (chunk = yield* req.read()).length > 0; ) yield* res.write(chunk);
  res.end();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "skein-client-examples-"));
  server = await startServer(app);
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Bundles an example and runs it against the server; resolves with its stdout. */
async function runExample(name: string): Promise<string> {
  const out = join(dir, `${name}.mjs`);
  await build({
    entryPoints: [here(`examples/${name}.ts`)], outfile: out, bundle: true, platform: "node", format: "esm",
    target: "node20", conditions: ["skein-source"], logLevel: "silent",
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  });
  // The timeout also checks that nothing keeps a finished program alive
  // (the examples run with the client's 30 s default timeouts).
  const { stdout } = await exec(process.execPath, [out], { env: { ...process.env, URL: `http://127.0.0.1:${server.port}` }, timeout: 15_000 });
  return stdout;
}

describe("README examples (client and load generator)", () => {
  it("quotes every example file verbatim", () => {
    for (const name of names) expect(readme).toContain(readFileSync(here(`examples/${name}.ts`), "utf8").trim());
  });

  it("client-basics: a GET, a JSON round trip, eight pipelined requests", async () => {
    expect((await runExample("client-basics")).split("\n")).toEqual([
      "200 text/plain; charset=utf-8 Hello, World!",
      "{ n: 1 }",
      "0 1 2 3 4 5 6 7",
      "",
    ]);
  });

  it("client-upload: chunked from a generator and from a coroutine", async () => {
    expect((await runExample("client-upload")).split("\n")).toEqual([JSON.stringify("line 0\nline 1\nline 2\n"), "slow upload", ""]);
  });

  it("load-api: 2,000 checked requests", async () => {
    const out = await runExample("load-api");
    expect(out).toContain("requests   2,000 ok of 2,000 responses (2,000 sent)");
    expect(out).toContain("2000 ok, 0 errors");
  });
});
