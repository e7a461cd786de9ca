// TLS, Unix sockets and node:cluster workers.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { get as httpGet, type RequestOptions } from "node:http";
import { get as httpsGet, type RequestOptions as HttpsRequestOptions } from "node:https";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "@skein/core";
import type { Request, Response } from "../../src/app.js";
import { Prepared } from "../../src/prepared.js";
import { serve } from "../../src/server.js";
import { rawSocket, startServer } from "../helpers/server.js";

function* whoami(req: Request, res: Response) {
  return res.json(200, { secure: req.secure, pid: process.pid, path: req.path });
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "skein-transports-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function fetchText(options: RequestOptions | HttpsRequestOptions, secure = false): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    (secure ? httpsGet : httpGet)(options, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });
}

describe("transports", () => {
  /** A throwaway self-signed certificate, made once. */
  function tlsFiles(): { key: Buffer; cert: Buffer } {
    if (!existsSync(join(dir, "cert.pem"))) {
      execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=localhost"], { stdio: "ignore" });
    }
    return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
  }

  it("serves HTTPS with serve({ tls })", async () => {
    tlsFiles();
    const key = readFileSync(join(dir, "key.pem"));
    const cert = readFileSync(join(dir, "cert.pem"));
    const s = await startServer(whoami, { tls: { key, cert } });
    try {
      const r = await fetchText({ host: "127.0.0.1", port: s.port, path: "/tls", ca: cert, servername: "localhost" }, true);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ secure: true, path: "/tls" });
    } finally {
      await s.stop();
    }
  });

  it("closes a TLS connection that never finishes its handshake, within headersTimeoutMs", async () => {
    const { key, cert } = tlsFiles();
    const s = await startServer(whoami, { tls: { key, cert }, limits: { headersTimeoutMs: 300 } });
    try {
      const silent = await rawSocket(s.port);
      const t0 = Date.now();
      const closedAfter = await new Promise<number>((resolve) => {
        silent.on("close", () => resolve(Date.now() - t0));
        setTimeout(() => resolve(-1), 3000);
      });
      silent.destroy();
      // Before: Node's 120 s handshake timeout, and then the TCP connection stayed open all the same.
      expect(closedAfter).toBeGreaterThan(0);
      expect(closedAfter).toBeLessThan(2000);
    } finally {
      await s.stop();
    }
  });

  it("bounds connections still in their TLS handshake by maxConnections, apart from those served", async () => {
    const { key, cert } = tlsFiles();
    const s = await startServer(whoami, { tls: { key, cert }, limits: { maxConnections: 2 } });
    const closedWithin = (socket: import("node:net").Socket, ms: number) =>
      new Promise<boolean>((resolve) => {
        if (socket.destroyed) return resolve(true);
        socket.on("close", () => resolve(true));
        setTimeout(() => resolve(false), ms);
      });
    const raws: import("node:net").Socket[] = [];
    try {
      // One served HTTPS connection (kept alive) does not count against handshakes.
      const served = await fetchText({ host: "127.0.0.1", port: s.port, path: "/served", ca: cert, servername: "localhost" }, true);
      expect(served.status).toBe(200);
      // Two silent peers fill the handshake slots; a third is closed at once.
      for (let i = 0; i < 3; i++) raws.push(await rawSocket(s.port));
      expect(await closedWithin(raws[2]!, 1000)).toBe(true);
      expect(raws[0]!.destroyed || raws[1]!.destroyed).toBe(false);
      // A slot freed by a peer that left is taken by the next one.
      raws[0]!.destroy();
      await new Promise((r) => setTimeout(r, 100));
      raws.push(await rawSocket(s.port));
      expect(await closedWithin(raws[3]!, 300)).toBe(false);
      // Before: no bound; every silent peer was held until its handshake timed out.
    } finally {
      for (const r of raws) r.destroy();
      await s.stop();
    }
  });

  it("starts on a Unix socket path left behind by a server that was killed, but never over a live one", async () => {
    const socketPath = join(dir, "stale.sock");
    // A server that dies without removing its socket file (SIGKILL, a crash).
    spawnSync(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, "SIGKILL"))`], { stdio: "ignore" });
    expect(existsSync(socketPath)).toBe(true);
    const s = await startServer(whoami, { path: socketPath });
    try {
      const r = await fetchText({ socketPath, path: "/after-crash" });
      expect(JSON.parse(r.body)).toMatchObject({ path: "/after-crash" });
      // A live server's socket is not taken over.
      await expect(startServer(whoami, { path: socketPath })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await s.stop();
    }
  });

  it("serves on a Unix socket", async () => {
    const socketPath = join(dir, "http.sock");
    const s = await startServer(whoami, { path: socketPath });
    try {
      const r = await fetchText({ socketPath, path: "/unix" });
      expect(JSON.parse(r.body)).toMatchObject({ secure: false, path: "/unix" });
    } finally {
      await s.stop();
    }
  });

  /** The cluster fixture, bundled to run as a program. */
  async function clusterProgram(): Promise<string> {
    const fixture = fileURLToPath(new URL("../fixtures/cluster-server.ts", import.meta.url));
    const out = join(dir, "cluster-server.mjs");
    await build({
      entryPoints: [fixture], outfile: out, bundle: true, platform: "node", format: "esm", target: "node20",
      conditions: ["skein-source"], logLevel: "silent",
      banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
    });
    return out;
  }

  it("gives up with HTTP_ERR_WORKERS_FAILED, not a fork loop, when workers keep dying before they listen", async () => {
    const holder = createNetServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", () => r()));
    const port = (holder.address() as { port: number }).port;
    try {
      const child = spawn(process.execPath, [await clusterProgram()], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PORT: String(port) } });
      let stderr = "";
      child.stderr.on("data", (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
      expect(code).toBe(1);
      expect(stderr).toContain("HTTP_ERR_WORKERS_FAILED");
      // Three start-up failures, two restarts spaced out in between.
      expect(stderr.match(/starting another in \d+ ms/g)).toEqual(["starting another in 100 ms", "starting another in 200 ms"]);
    } finally {
      holder.close();
    }
  });

  it("gives up too when one worker serves and the others keep dying at start-up (the primary sees the failure however it is woken)", async () => {
    const child = spawn(process.execPath, [await clusterProgram()], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FAIL_AFTER_FIRST: "1" } });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toContain("HTTP_ERR_WORKERS_FAILED");
  });

  it("refuses a workers count that is not a whole number of at least 1", async () => {
    for (const workers of [0, -1, 2.5, Number.NaN, Infinity]) {
      await expect(run(serve({ port: 0, workers }, () => Prepared.text(200, "")))).rejects.toThrow(RangeError);
    }
  });

  it("gives requests in flight on workers serve's graceMs after a SIGTERM, however short the primary kernel's own grace period", async () => {
    const child = spawn(process.execPath, [await clusterProgram()], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, KERNEL_GRACE_MS: "100" } });
    let output = "";
    const port = await new Promise<number>((resolve) => {
      child.stdout.on("data", (d) => {
        output += d;
        const ready = output.split("\n").filter((l) => l.startsWith("listening"));
        if (ready.length === 2) resolve(Number(ready[0]!.split(" ")[1]));
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const slow = fetchText({ host: "127.0.0.1", port, path: "/sleep?ms=1200", agent: false });
    await new Promise((r) => setTimeout(r, 200)); // the request is in a worker's handler
    child.kill("SIGTERM");
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(await exited).toBe(0);
  });

  it("runs workers: n under node:cluster, spreading connections, and stops them gracefully", async () => {
    const out = await clusterProgram();
    const child = spawn(process.execPath, [out], { stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    const lines = new Promise<string[]>((resolve) => {
      child.stdout.on("data", (d) => {
        output += d;
        const ready = output.split("\n").filter((l) => l.startsWith("listening"));
        if (ready.length === 2) resolve(ready);
      });
    });
    const ready = await lines;
    const port = Number(ready[0]!.split(" ")[1]);
    const pids = new Set<number>();
    for (let i = 0; i < 40 && pids.size < 2; i++) {
      const r = await fetchText({ host: "127.0.0.1", port, path: "/", agent: false });
      pids.add(JSON.parse(r.body).pid as number);
    }
    expect(pids.size).toBe(2);
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toContain("workers stopped");
  });
});
