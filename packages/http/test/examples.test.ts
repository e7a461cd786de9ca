// The README's examples are the files in examples/, verbatim; each one
// type-checks, bundles, runs, and answers like the README says.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exchange } from "./helpers/server.js";

const run = promisify(execFile);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const readme = readFileSync(here("../README.md"), "utf8");
const names = ["hello", "echo", "node", "upgrade", "middleware", "parser"];
let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "skein-examples-"));
});
afterAll(() => {
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** Bundles an example; returns the bundle's path. */
async function bundle(name: string): Promise<string> {
  const out = join(dir, `${name}.mjs`);
  await build({
    entryPoints: [here(`../examples/${name}.ts`)], outfile: out, bundle: true, platform: "node", format: "esm",
    target: "node20", conditions: ["skein-source"], logLevel: "silent",
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  });
  return out;
}

/** Bundles and starts an example on a free port; resolves with the port (its output so far is in `output`). */
async function start(name: string, output: string[] = []): Promise<number> {
  const child = spawn(process.execPath, [await bundle(name)], { env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let text = "";
    child.stdout!.on("data", (d) => {
      text += d;
      output.push(String(d));
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    child.once("exit", (code) => reject(new Error(`${name} exited with ${code}`)));
  });
}

describe("README examples", () => {
  it("quotes every example file verbatim", () => {
    for (const name of names) expect(readme).toContain(readFileSync(here(`../examples/${name}.ts`), "utf8").trim());
  });

  it("type-check", async () => {
    await run(process.execPath, [here("../../../node_modules/typescript/bin/tsc"), "-p", here("../examples/tsconfig.json")]);
  }, 60_000);

  it("hello.ts answers Hello, World!", async () => {
    const port = await start("hello");
    const r = await exchange(port, "GET /anything HTTP/1.1\r\nHost: x\r\n\r\n", { count: 1 });
    expect(r.responses[0]!.body).toBe("Hello, World!\n");
  });

  it("echo.ts streams a body back, doubles JSON and waits", async () => {
    const port = await start("echo");
    const e = await exchange(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/x-test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", { count: 1 });
    expect([e.responses[0]!.header("content-type"), e.responses[0]!.body]).toEqual(["text/x-test", "abc"]);
    const d = await exchange(port, "POST /double HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n{\"n\":21}", { count: 1 });
    expect(JSON.parse(d.responses[0]!.body)).toEqual({ doubled: 42 });
    const s = await exchange(port, "GET /slow/5 HTTP/1.1\r\nHost: x\r\n\r\n", { count: 1 });
    expect(s.responses[0]!.body).toBe("waited 5 ms\n");
  });

  it("node.ts serves the app on node:http", async () => {
    const port = await start("node");
    const r = await exchange(port, "GET /hello/ada HTTP/1.1\r\nHost: x\r\n\r\n", { count: 1 });
    expect(r.responses[0]!.body).toBe("hello ada from node:http\n");
  });

  it("middleware.ts logs timing and access lines, with the client proxyHeaders names", async () => {
    const output: string[] = [];
    const port = await start("middleware", output);
    const r = await exchange(port, "GET /whoami HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n", { count: 1 });
    expect(r.responses[0]!.body).toBe("203.0.113.7 http\n");
    for (const t0 = Date.now(); !/\/whoami 200 17 sent/.test(output.join("")) && Date.now() - t0 < 2000; ) await new Promise((w) => setTimeout(w, 10));
    expect(output.join("")).toMatch(/^203\.0\.113\.7 "GET \/whoami HTTP\/1\.1" 200 17 /m);
    expect(output.join("")).toMatch(/^\/whoami 200 17 sent \d/m);
  });

  it("parser.ts parses a request from bytes", async () => {
    const { stdout } = await run(process.execPath, [await bundle("parser")]);
    expect(stdout).toBe("GET / 1\nused 27\n");
  });

  it("upgrade.ts switches protocols and echoes", async () => {
    const port = await start("upgrade");
    const refused = await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", { count: 1 });
    expect(refused.responses[0]!.status).toBe(426);
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const echoed = new Promise<void>((resolve) => socket.on("data", (d) => {
      text += d.toString("latin1");
      if (text.endsWith("early|late|")) resolve();
    }));
    socket.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly|");
    socket.write("late|");
    await echoed;
    socket.destroy();
    expect(text.startsWith("HTTP/1.1 101 Switching Protocols\r\n")).toBe(true);
  });
});
