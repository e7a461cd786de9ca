// The README's whole programs are the files in examples/, verbatim; each one
// type-checks, bundles, runs, and behaves as the README says.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openClient, until } from "./support/peers.js";

const run = promisify(execFile);
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const readme = readFileSync(here("../README.md"), "utf8");
const names = ["echo", "chat", "rooms", "client"];
let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "skein-ws-examples-"));
});
afterAll(() => {
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
});

async function bundle(name: string): Promise<string> {
  const out = join(dir, `${name}.mjs`);
  await build({
    entryPoints: [here(`../examples/${name}.ts`)], outfile: out, bundle: true, platform: "node", format: "esm",
    target: "node20", conditions: ["skein-source"], logLevel: "silent",
    banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
  });
  return out;
}

/** Starts a server example on a free port; resolves with the port. Its output collects in `output`. */
async function start(name: string, output: string[] = []): Promise<number> {
  const child = spawn(process.execPath, [await bundle(name)], { env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "inherit"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      output.push(String(d));
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(output.join(""));
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

  it("echo.ts echoes, and client.ts prints the reply", async () => {
    const port = await start("echo");
    const inbox = await openClient(`ws://127.0.0.1:${port}/echo`);
    inbox.ws.send("ping");
    await until(() => inbox.messages.length === 1);
    expect(inbox.messages[0]!.data.toString()).toBe("ping");
    inbox.ws.close();
    const { stdout } = await run(process.execPath, [await bundle("client")], { env: { ...process.env, URL: `ws://127.0.0.1:${port}/echo` } });
    expect(stdout).toBe("hello\n");
  });

  it("chat.ts greets, prefixes, closes 1011 on binary and says who left", async () => {
    const output: string[] = [];
    const port = await start("chat", output);
    const ada = await openClient(`ws://127.0.0.1:${port}/chat?name=ada`);
    ada.ws.send("hi");
    await until(() => ada.messages.length === 2);
    expect(ada.messages.map((m) => m.data.toString())).toEqual(["welcome, ada", "ada: hi"]);
    ada.ws.send(Buffer.from([1]));
    expect((await ada.closeEvent()).code).toBe(1011);
    const bob = await openClient(`ws://127.0.0.1:${port}/chat?name=bob`);
    await until(() => bob.messages.length === 1);
    bob.ws.close();
    await until(() => /ada left\n/.test(output.join("")) && /bob left\n/.test(output.join("")));
  });

  it("rooms.ts relays to everyone else in the room", async () => {
    const port = await start("rooms");
    const [a, b, other] = await Promise.all([1, 2, 3].map((i) => openClient(`ws://127.0.0.1:${port}/rooms/${i === 3 ? "elsewhere" : "lobby"}`)));
    a!.ws.send("from a");
    await until(() => b!.messages.length === 1);
    await new Promise((w) => setTimeout(w, 50));
    expect([a!.messages.length, b!.messages[0]!.data.toString(), other!.messages.length]).toEqual([0, "from a", 0]);
    for (const c of [a, b, other]) c!.ws.close();
  });
});
