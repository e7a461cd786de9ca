/**
 * Interop with Python's `websockets` (Debian package python3-websockets,
 * installed by scripts/system-deps.mjs; run with /usr/bin/python3): a Python
 * client against Skein's server, and Skein's client against a Python server.
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { run } from "@skein/core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { connect, websocket } from "@skein/websocket";
import { startHost, type Host } from "./support/host.js";

const PYTHON = "/usr/bin/python3";
const PEER = fileURLToPath(new URL("./support/python_peer.py", import.meta.url));

beforeAll(() => {
  const probe = spawnSync(PYTHON, ["-c", "import websockets"]);
  if (probe.status !== 0) throw new Error(`${PYTHON} cannot import websockets: run \`node scripts/system-deps.mjs python3-websockets\``);
});

let h: Host | null = null;
afterEach(async () => {
  await h?.stop();
  h = null;
});

describe("Python websockets client → Skein server", () => {
  it("echoes every size and kind, fragments, ping, and closes with the client's code", async () => {
    const closes: unknown[] = [];
    h = await startHost(
      websocket(function* (ws) {
        for (;;) {
          const msg = yield* ws.recv();
          if (msg === null) break;
          yield* ws.send(msg.data, { binary: msg.binary });
        }
        closes.push(ws.closeCode, ws.closeReason);
      }),
    );
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(PYTHON, [PEER, "client", `${h!.url}/py`], { timeout: 20_000 }, (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out))),
    );
    expect(JSON.parse(stdout)).toEqual({
      "empty text": true,
      "1 byte text": true,
      "unicode text": true,
      "64 KiB text": true,
      "empty binary": true,
      "1 byte binary": true,
      "64 KiB binary": true,
      "1 MiB binary": true,
      fragmented: true,
      ping: true,
      close: [4003, "py bye"],
    });
    expect(closes).toEqual([4003, "py bye"]);
  });
});

describe("Skein client → Python websockets server", () => {
  it("sends and receives text and binary, and sees the server's close code", async () => {
    const py = spawn(PYTHON, [PEER, "server"], { stdio: ["pipe", "pipe", "inherit"] });
    try {
      const first = await new Promise<string>((resolve) => createInterface({ input: py.stdout! }).once("line", resolve));
      const { port } = JSON.parse(first) as { port: number };
      const out = await run(function* () {
        const ws = yield* connect(`ws://127.0.0.1:${port}/`);
        yield* ws.send("from skein");
        const text = (yield* ws.recv())!;
        yield* ws.send(Buffer.alloc(100_000, 3));
        const bin = (yield* ws.recv())!;
        const rtt = yield* ws.ping();
        yield* ws.send("close please");
        const end = yield* ws.recv();
        return [text.text, text.binary, bin.data.length, bin.binary, rtt >= 0, end, ws.closeCode, ws.closeReason];
      });
      expect(out).toEqual(["from skein", false, 100_000, true, true, null, 4004, "python closes"]);
    } finally {
      py.stdin!.end();
      py.kill();
    }
  });
});
