// Real clients against the Skein server: curl, undici and wrk.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { Pool, request as undiciRequest } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Request, Response } from "../../src/app.js";
import { Prepared } from "../../src/prepared.js";
import { Router } from "../../src/router.js";
import { startServer, type Running } from "../helpers/server.js";

const run = promisify(execFile);
const hello = Prepared.text(200, "Hello, World!");
const lua = fileURLToPath(new URL("../../bench/pipeline.lua", import.meta.url));

const router = new Router()
  .get("/plaintext", () => hello)
  .get("/n/:n", function* (req: Request, res: Response) {
    return res.text(200, `n=${req.params.n}`);
  })
  .post("/upload", function* (req: Request, res: Response) {
    let bytes = 0;
    let sum = 0;
    for (;;) {
      const chunk = yield* req.read();
      if (chunk.length === 0) break;
      bytes += chunk.length;
      for (const b of chunk) sum = (sum + b) % 65521;
    }
    return res.json(200, { bytes, sum, te: req.headers.get("transfer-encoding"), expect: req.headers.get("expect") });
  });

let s: Running;
let base: string;
let dir: string;
beforeAll(async () => {
  s = await startServer(router.app());
  base = `http://127.0.0.1:${s.port}`;
  dir = mkdtempSync(join(tmpdir(), "skein-http-"));
});
afterAll(async () => {
  await s.stop();
});

function checksum(data: Buffer): number {
  let sum = 0;
  for (const b of data) sum = (sum + b) % 65521;
  return sum;
}

describe("curl", () => {
  it("reuses one keep-alive connection for several requests", async () => {
    const { stdout, stderr } = await run("curl", ["-sv", `${base}/n/1`, `${base}/n/2`, `${base}/n/3`]);
    expect(stdout).toBe("n=1n=2n=3");
    expect(stderr).toMatch(/Re-using existing connection/);
    expect(stderr.match(/Connected to 127\.0\.0\.1/g)).toHaveLength(1);
  });

  it("uploads a chunked body", async () => {
    const data = Buffer.alloc(300_000, 7);
    data.write("start", 0);
    const file = join(dir, "upload.bin");
    writeFileSync(file, data);
    const { stdout } = await run("curl", ["-s", "-H", "Transfer-Encoding: chunked", "--data-binary", `@${file}`, `${base}/upload`]);
    expect(JSON.parse(stdout)).toEqual({ bytes: data.length, sum: checksum(data), te: "chunked", expect: null });
  });

  it("waits for 100 Continue before sending the body", async () => {
    const data = Buffer.alloc(50_000, 3);
    const file = join(dir, "continue.bin");
    writeFileSync(file, data);
    const { stdout, stderr } = await run("curl", ["-sv", "-H", "Expect: 100-continue", "--expect100-timeout", "30", "--data-binary", `@${file}`, `${base}/upload`]);
    expect(stderr).toContain("< HTTP/1.1 100 Continue");
    expect(JSON.parse(stdout)).toEqual({ bytes: data.length, sum: checksum(data), te: null, expect: "100-continue" });
  });
});

describe("undici", () => {
  it("pipelines 200 requests over a Pool and gets every answer", async () => {
    const pool = new Pool(base, { connections: 2, pipelining: 16 });
    try {
      const answers = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
        const r = await pool.request({ path: `/n/${i}`, method: "GET" });
        return `${r.statusCode} ${await r.body.text()}`;
      }));
      expect(answers).toEqual(Array.from({ length: 200 }, (_, i) => `200 n=${i}`));
    } finally {
      await pool.close();
    }
  });

  it("uploads a streamed body", async () => {
    const parts = [Buffer.from("abc"), Buffer.alloc(70_000, 1), Buffer.from("xyz")];
    const r = await undiciRequest(`${base}/upload`, {
      method: "POST",
      body: Readable.from(parts),
    });
    expect(r.statusCode).toBe(200);
    const all = Buffer.concat(parts);
    expect(await r.body.json()).toMatchObject({ bytes: all.length, sum: checksum(all), te: "chunked" });
  });
});

describe("wrk", () => {
  it("runs pipelined 16 deep without socket errors or non-2xx answers", async () => {
    const { stdout } = await run("wrk", ["-t1", "-c8", "-d1s", "-s", lua, `${base}/plaintext`, "--", "16"]);
    expect(stdout).not.toMatch(/Socket errors/);
    expect(stdout).not.toMatch(/Non-2xx/);
    const requests = Number(/(\d+) requests in/.exec(stdout)?.[1]);
    expect(requests).toBeGreaterThan(1000);
  });
});
