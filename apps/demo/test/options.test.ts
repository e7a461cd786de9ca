/**
 * The demo's command line and environment, through the started process:
 * PORT/HOST, flag precedence, the limit flags, bad arguments.
 */
import { spawnSync } from "node:child_process";
import net from "node:net";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildDemo, DEMO_MAIN, ROOT, startDemo, type Demo } from "./support/demo-process.js";
import { get, RawConn, request } from "./support/raw-http.js";

const running: Demo[] = [];
async function demoWith(args: string[], env: Record<string, string> = {}): Promise<Demo> {
  const d = await startDemo({ args, env });
  running.push(d);
  return d;
}
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop()));
});
beforeAll(() => buildDemo());

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe("where it listens", () => {
  it("prints http://HOST:PORT once it accepts connections, on the port it was given", async () => {
    const port = await freePort();
    const d = await demoWith(["--port", String(port)]);
    expect(d.output()).toContain(`http://127.0.0.1:${port}`);
    expect((await request(port, get("/plaintext"))).status).toBe(200);
  });

  it("takes PORT and HOST from the environment", async () => {
    const port = await freePort();
    const d = await demoWith([], { PORT: String(port), HOST: "127.0.0.1" });
    expect(d.port).toBe(port);
    expect((await request(port, get("/plaintext"))).status).toBe(200);
  });

  it("lets --port and --host override PORT and HOST", async () => {
    const d = await demoWith(["--port", "0", "--host", "127.0.0.1"], { PORT: "1", HOST: "192.0.2.1" });
    expect(d.host).toBe("127.0.0.1");
    expect(d.port).not.toBe(1);
    expect((await request(d.port, get("/plaintext"))).status).toBe(200);
  });

  it("exits 2 with the usage for an unknown option", () => {
    const r = spawnSync(process.execPath, [DEMO_MAIN, "--nope"], { cwd: ROOT, encoding: "utf8", timeout: 10_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--nope");
    expect(r.stderr).toContain("--max-body-size");
  });

  it("exits 1 with one line naming the address and a hint when the port is taken", async () => {
    const holder = net.createServer();
    const port = await new Promise<number>((resolve) => holder.listen(0, "127.0.0.1", () => resolve((holder.address() as net.AddressInfo).port)));
    try {
      const r = spawnSync(process.execPath, [DEMO_MAIN, "--port", String(port)], { cwd: ROOT, encoding: "utf8", timeout: 10_000 });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(`demo: cannot listen on 127.0.0.1:${port}: EADDRINUSE (another server has it: stop that one, or pick another with --port)`);
    } finally {
      holder.close();
    }
  });

  it("with --workers, gives up after three workers fail to listen, and exits 1 with the reason (no fork loop)", async () => {
    const holder = net.createServer();
    const port = await new Promise<number>((resolve) => holder.listen(0, "127.0.0.1", () => resolve((holder.address() as net.AddressInfo).port)));
    try {
      const r = spawnSync(process.execPath, [DEMO_MAIN, "--port", String(port), "--workers", "2"], { cwd: ROOT, encoding: "utf8", timeout: 20_000 });
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split("\n");
      expect(lines.filter((l) => l.includes("EADDRINUSE")).length).toBeGreaterThanOrEqual(3);
      expect(lines.at(-1)).toBe("demo: 3 workers in a row exited (1) before listening; giving up (the workers said why above)");
    } finally {
      holder.close();
    }
  });

  it("prints the usage and exits 0 for --help", () => {
    const r = spawnSync(process.execPath, [DEMO_MAIN, "--help"], { cwd: ROOT, encoding: "utf8", timeout: 10_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("--keep-alive-timeout");
  });
});

describe("limit flags", () => {
  it("--max-body-size: a bigger body gets 413, one that fits is echoed", async () => {
    const d = await demoWith(["--port", "0", "--max-body-size", "10"]);
    const fits = await request(d.port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789");
    expect(fits.body.toString()).toBe("0123456789");
    const big = await request(d.port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n0123456789A");
    expect(big.status).toBe(413);
    const conn = await RawConn.open(d.port);
    // Echo streams: a chunked body is refused if its first chunk is already too big
    // (later chunks over the limit abort a response already under way).
    conn.write("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123456789ABCDEF\r\n0\r\n\r\n");
    const chunked = await conn.response();
    conn.close();
    expect(chunked.status).toBe(413);
  });

  it("--max-header-size: a bigger head gets 431", async () => {
    const d = await demoWith(["--port", "0", "--max-header-size", "1024"]);
    expect((await request(d.port, get("/plaintext", "GET", `X-Pad: ${"a".repeat(600)}\r\n`))).status).toBe(200);
    expect((await request(d.port, get("/plaintext", "GET", `X-Pad: ${"a".repeat(1100)}\r\n`))).status).toBe(431);
  });

  it("--headers-timeout: a head that never ends gets 408 and the connection closed", async () => {
    const d = await demoWith(["--port", "0", "--headers-timeout", "300"]);
    const conn = await RawConn.open(d.port);
    conn.write("GET /plaintext HTTP/1.1\r\nHost: x\r\n");
    const res = await conn.response({ timeoutMs: 5000 });
    expect(res.status).toBe(408);
    await conn.closed();
  });

  it("--request-timeout: an echo whose body stops arriving is cut off", async () => {
    const d = await demoWith(["--port", "0", "--request-timeout", "400"]);
    const conn = await RawConn.open(d.port);
    conn.write("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly some");
    // The echo already answered 200 and streamed what came; the timeout can only abort it.
    // Without the flag (default 300 s) the connection would still be open when this gives up.
    const rest = await conn.closed(3000);
    expect(rest.toString("latin1")).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nonly some$/);
  });

  it("--keep-alive-timeout: an idle keep-alive connection is closed", async () => {
    const d = await demoWith(["--port", "0", "--keep-alive-timeout", "300"]);
    const conn = await RawConn.open(d.port);
    conn.write(get("/plaintext"));
    expect((await conn.response()).status).toBe(200);
    expect((await conn.closed(5000)).length).toBe(0);
  });
});
