// toNodeListener specifics: what node:http leaves to the adapter.
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Request, Response } from "../src/app.js";
import { exchange, startNodeServer, type Running } from "./helpers/server.js";

let s: Running | null = null;
afterEach(async () => {
  await s?.stop();
  s = null;
});

describe("toNodeListener", () => {
  it("closes after answering an upgrade request the handler did not take over, as the native server does", async () => {
    s = await startNodeServer(function* (req: Request, res: Response) {
      return res.text(req.upgrade ? 426 : 200, req.upgrade ? "no" : "next");
    });
    const r = await exchange(s.port, [
      "GET /up HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
      "GET /next HTTP/1.1\r\nHost: a\r\n\r\n",
    ], { timeoutMs: 2000 });
    expect(r.responses.map((x) => [x.status, x.header("connection")])).toEqual([[426, "close"]]);
    expect(r.closed).toBe(true);
  });

  it("leaves no listeners behind on the request and response after many waits (upload pieces, backpressure)", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      s = await startNodeServer(function* (req: Request, res: Response) {
        let pieces = 0;
        while ((yield* req.read()).length > 0) pieces++;
        res.start(200, { "content-type": "application/octet-stream" });
        const chunk = Buffer.alloc(64 * 1024, 120);
        for (let i = 0; i < 200; i++) yield* res.write(chunk); // 12.5 MiB to a slow reader
        res.end(`|${pieces}`);
      });
      const text = await new Promise<string>((resolve, reject) => {
        const socket = connect(s!.port, "127.0.0.1");
        let got = 0;
        let tail = "";
        socket.on("data", (d: Buffer) => {
          got += d.length;
          tail = (tail + d.toString("latin1")).slice(-16);
          socket.pause(); // read slowly: the server waits for drain again and again
          setTimeout(() => socket.resume(), 1);
        });
        socket.on("end", () => resolve(`${got > 200 * 64 * 1024} ${/\|\d+/.exec(tail)?.[0]}`));
        socket.on("error", reject);
        socket.write("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        let n = 0;
        const next = () => {
          if (n++ < 50) {
            socket.write("1\r\nx\r\n");
            setTimeout(next, 1); // one piece per read on the server
          } else socket.write("0\r\n\r\n");
        };
        next();
      });
      expect(text).toMatch(/^true \|\d+$/);
      expect(Number(text.split("|")[1])).toBeGreaterThan(11); // past Node's 10-listener warning
      await new Promise((r) => setImmediate(r));
      expect(warnings).not.toContain("MaxListenersExceededWarning");
    } finally {
      process.off("warning", onWarning);
    }
  });
});
