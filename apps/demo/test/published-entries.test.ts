// The packages as a user outside this workspace gets them: each package's
// built entry (dist/index.js, what its package.json exports by default),
// installed side by side under node_modules/@skein, imported by name from a
// plain Node program. One kernel must serve all three: a library entry that
// bundled its own copy of @skein/core made `run` from @skein/core unable to
// run @skein/http's operations ("not inside a Skein task").
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import WebSocket from "ws";
import { bundleOptions } from "../../../scripts/build.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const PACKAGES = ["core", "http", "websocket"] as const;

/** A plain ESM program using all three packages by name. */
const PROGRAM = `
import { run } from "@skein/core";
import { HttpServer, Prepared, Router } from "@skein/http";
import { websocket } from "@skein/websocket";

const echo = websocket(function* (ws) {
  for (;;) {
    const msg = yield* ws.recv();
    if (msg === null) return;
    yield* ws.send(msg.data, { binary: msg.binary });
  }
});
const app = new Router()
  .get("/plaintext", () => Prepared.text(200, "Hello, World!"))
  .get("/ws", echo)
  .app();
const server = new HttpServer(app, {
  port: 0,
  host: "127.0.0.1",
  onListening: (s) => console.log(JSON.stringify({ port: s.address.port })),
});
await run(server.run());
`;

describe("the packages' built entries, installed and imported by name", () => {
  let dir: string;
  let child: ChildProcess | undefined;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "skein-published-"));
    for (const name of PACKAGES) {
      const pkg = join(dir, "node_modules/@skein", name);
      mkdirSync(join(pkg, "dist"), { recursive: true });
      copyFileSync(join(root, "packages", name, "package.json"), join(pkg, "package.json"));
      const src = `packages/${name}/src/index.ts`;
      await build({ ...bundleOptions(src, `packages/${name}/dist/index.js`), outfile: join(pkg, "dist/index.js"), sourcemap: false });
    }
    writeFileSync(join(dir, "main.mjs"), PROGRAM);
    child = spawn(process.execPath, [join(dir, "main.mjs")], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    port = await new Promise<number>((resolve, reject) => {
      let out = "";
      child!.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const line = out.split("\n").find((l) => l.startsWith("{"));
        if (line !== undefined) resolve((JSON.parse(line) as { port: number }).port);
      });
      child!.once("exit", (code) => reject(new Error(`the program exited with ${code} before listening:\n${stderr}`)));
    });
  });

  afterAll(() => {
    child?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("keeps one copy of the kernel: @skein/http and @skein/websocket import @skein/core", () => {
    for (const name of ["http", "websocket"]) {
      const text = readFileSync(join(dir, "node_modules/@skein", name, "dist/index.js"), "utf8");
      expect(text).toMatch(/from "@skein\/core"/);
      expect(text).not.toMatch(/\bclass (_?Kernel)\b|\bKernel = class\b/);
    }
  });

  it("serves HTTP", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/plaintext`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("Hello, World!");
  });

  it("echoes over a WebSocket", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.once("open", () => ws.send("ping over the built packages"));
      ws.once("message", (data) => resolve(String(data)));
      ws.once("error", reject);
    });
    ws.close();
    expect(reply).toBe("ping over the built packages");
  });
});
