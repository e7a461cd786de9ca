// proxyHeaders: X-Forwarded-For / X-Forwarded-Proto believed only from
// trusted proxies. Real servers, raw sockets sending exact bytes.
import { connect } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { accessLog } from "../src/access-log.js";
import { compose, type Request, type Response } from "../src/app.js";
import { proxyHeaders, type ProxyHeadersOptions } from "../src/proxy-headers.js";
import { exchange, ResponseReader, startNodeServer, startServer, type Running } from "./helpers/server.js";

function* whoami(req: Request, res: Response) {
  return res.json(200, {
    remoteAddress: req.remoteAddress ?? null,
    remotePort: req.remotePort ?? null,
    secure: req.secure,
    proxyAddress: req.forwarded === null ? "not forwarded" : (req.forwarded.proxyAddress ?? null),
  });
}

async function withServer(options: ProxyHeadersOptions, fn: (s: Running) => Promise<void>, start = startServer): Promise<void> {
  const s = await start(proxyHeaders(options)(whoami));
  try {
    await fn(s);
  } finally {
    await s.stop();
  }
}

/** Sends one GET with `headers` (exact lines) and returns the JSON the app answered. */
async function ask(port: number, ...headers: string[]): Promise<Record<string, unknown>> {
  const head = ["GET / HTTP/1.1", "Host: x", ...headers, "Connection: close", "", ""].join("\r\n");
  const r = await exchange(port, head, { count: 1 });
  expect(r.responses[0]?.status).toBe(200);
  return JSON.parse(r.responses[0]!.body) as Record<string, unknown>;
}

describe("proxyHeaders", () => {
  test("a trusted proxy (loopback, by default) names the client and the scheme", async () => {
    await withServer({}, async (s) => {
      expect(await ask(s.port, "X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https")).toEqual({
        remoteAddress: "203.0.113.7", remotePort: null, secure: true, proxyAddress: "127.0.0.1",
      });
    });
  });

  test("the client is the first untrusted entry from the right, so a client cannot spoof past the proxy", async () => {
    await withServer({ trusted: ["127.0.0.1", "10.0.0.0/8"] }, async (s) => {
      // 198.51.100.1 is what the client wrote itself; 10.1.2.3 is an inner proxy.
      const r = await ask(s.port, "X-Forwarded-For: 198.51.100.1, 203.0.113.7, 10.1.2.3");
      expect(r.remoteAddress).toBe("203.0.113.7");
      // Every entry trusted: the leftmost.
      expect((await ask(s.port, "X-Forwarded-For: 10.9.9.9,10.1.2.3")).remoteAddress).toBe("10.9.9.9");
    });
  });

  test("several field lines read as one list, in order; the last X-Forwarded-Proto counts", async () => {
    await withServer({}, async (s) => {
      const r = await ask(s.port, "X-Forwarded-For: 198.51.100.1", "X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: https, http");
      expect(r).toMatchObject({ remoteAddress: "203.0.113.9", secure: false });
      expect(await ask(s.port, "X-Forwarded-Proto: http", "X-Forwarded-Proto: HTTPS,")).toMatchObject({ secure: true });
      // An unknown scheme says nothing: the connection's own counts.
      expect(await ask(s.port, "X-Forwarded-Proto: gopher")).toMatchObject({ secure: false, proxyAddress: "not forwarded" });
    });
  });

  test("a loopback peer on a dual-stack socket (::ffff:127.0.0.1) is trusted like 127.0.0.1", async () => {
    const s = await startServer(proxyHeaders()(whoami), { host: "::" });
    try {
      expect(await ask(s.port, "X-Forwarded-For: 203.0.113.7")).toMatchObject({
        remoteAddress: "203.0.113.7", proxyAddress: "::ffff:127.0.0.1",
      });
    } finally {
      await s.stop();
    }
  });

  test("ports and brackets are dropped from entries", async () => {
    await withServer({}, async (s) => {
      expect((await ask(s.port, "X-Forwarded-For: [2001:db8::1]:4711")).remoteAddress).toBe("2001:db8::1");
      expect((await ask(s.port, "X-Forwarded-For: 203.0.113.7:5555")).remoteAddress).toBe("203.0.113.7");
      expect((await ask(s.port, "X-Forwarded-For: 2001:db8::2")).remoteAddress).toBe("2001:db8::2");
    });
  });

  test("an entry that is no address ends the walk at the last address before it, so remoteAddress is always an IP", async () => {
    await withServer({ trusted: ["127.0.0.1", "10.0.0.0/8"] }, async (s) => {
      expect((await ask(s.port, "X-Forwarded-For: 203.0.113.7, unknown")).remoteAddress).toBe("127.0.0.1");
      expect((await ask(s.port, "X-Forwarded-For: 198.51.100.1, [evil], 10.1.2.3")).remoteAddress).toBe("10.1.2.3");
      expect((await ask(s.port, "X-Forwarded-For: []")).remoteAddress).toBe("127.0.0.1");
      expect((await ask(s.port, "X-Forwarded-For: , ,203.0.113.7 ,")).remoteAddress).toBe("203.0.113.7");
    });
  });

  test("headers from a peer that is not trusted are ignored", async () => {
    await withServer({ trusted: ["10.0.0.0/8"] }, async (s) => {
      expect(await ask(s.port, "X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https")).toMatchObject({
        remoteAddress: "127.0.0.1", secure: false, proxyAddress: "not forwarded",
      });
    });
  });

  test("a trusted peer that sends neither header leaves the request as it is", async () => {
    await withServer({}, async (s) => {
      const r = await ask(s.port);
      expect(r).toMatchObject({ remoteAddress: "127.0.0.1", secure: false, proxyAddress: "not forwarded" });
      expect(typeof r.remotePort).toBe("number");
    });
  });

  test("X-Forwarded-Proto alone sets the scheme and keeps the peer's address and port", async () => {
    await withServer({}, async (s) => {
      const r = await ask(s.port, "X-Forwarded-Proto: wss");
      expect(r).toMatchObject({ remoteAddress: "127.0.0.1", secure: true, proxyAddress: "127.0.0.1" });
      expect(typeof r.remotePort).toBe("number");
    });
  });

  test("IPv6 ranges and IPv4-mapped entries are trusted as what they mean", async () => {
    await withServer({ trusted: ["::ffff:127.0.0.0/104", "2001:db8::/32"] }, async (s) => {
      // ::ffff:127.0.0.0/104 is 127.0.0.0/8: the loopback peer is trusted; 2001:db8::5 is a trusted hop.
      expect((await ask(s.port, "X-Forwarded-For: 203.0.113.7, 2001:db8::5")).remoteAddress).toBe("203.0.113.7");
    });
    await withServer({ trusted: ["::ffff:10.0.0.0/104"] }, async (s) => {
      expect((await ask(s.port, "X-Forwarded-For: 203.0.113.7")).proxyAddress).toBe("not forwarded");
    });
  });

  test("a TCP peer whose address is gone (it reset the connection) is never taken for a Unix-socket proxy", async () => {
    const seen: (string | undefined)[] = [];
    const app = proxyHeaders({ trusted: ["unix"] })(function* (req: Request, res: Response) {
      seen.push(req.remoteAddress);
      return res.text(200, "ok");
    });
    const s = await startServer(app);
    try {
      for (let i = 0; i < 10; i++) {
        await new Promise<void>((resolve) => {
          const socket = connect(s.port, "127.0.0.1", () => {
            socket.write("GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n", () => socket.resetAndDestroy());
          });
          socket.on("close", () => resolve());
          socket.on("error", () => {});
        });
      }
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await s.stop();
    }
    // On loopback the reset has arrived by the time the handler runs. The
    // listener reads the peer address at accept, so the handler still sees
    // it; a peer that reset before it was accepted has none, and trusting
    // that as a Unix socket (the old rule) let 6.6.6.6 through every run.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen).not.toContain("6.6.6.6");
    for (const address of seen) if (address !== undefined) expect(address).toBe("127.0.0.1");
  });

  test('"*" trusts every peer', async () => {
    await withServer({ trusted: ["*"] }, async (s) => {
      expect((await ask(s.port, "X-Forwarded-For: 203.0.113.7")).remoteAddress).toBe("203.0.113.7");
    });
  });

  test("peers on a Unix socket are trusted by default (a proxy on the same machine)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "skein-proxy-"));
    const path = join(dir, "s.sock");
    const s = await startServer(proxyHeaders()(whoami), { path });
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const socket = connect(path);
        const reader = new ResponseReader();
        socket.on("data", (d) => reader.push(d));
        socket.on("end", () => resolve(reader.responses[0]?.body ?? ""));
        socket.on("error", reject);
        socket.write("GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n");
      });
      expect(JSON.parse(body)).toMatchObject({ remoteAddress: "203.0.113.7", proxyAddress: null });
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the access log after it records the client, not the proxy", async () => {
    const lines: string[] = [];
    const s = await startServer(compose(proxyHeaders(), accessLog({ write: (l) => void lines.push(l) }))(whoami));
    try {
      await ask(s.port, "X-Forwarded-For: 203.0.113.7");
    } finally {
      await s.stop();
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^203\.0\.113\.7 "GET \/ HTTP\/1\.1" 200 /);
  });

  test("works the same under node:http through toNodeListener", async () => {
    await withServer({}, async (s) => {
      expect(await ask(s.port, "X-Forwarded-For: 203.0.113.7", "X-Forwarded-Proto: https")).toEqual({
        remoteAddress: "203.0.113.7", remotePort: null, secure: true, proxyAddress: "127.0.0.1",
      });
    }, startNodeServer);
  });

  test("a trusted entry that is no address or range is a TypeError at set-up", () => {
    expect(() => proxyHeaders({ trusted: ["localhost"] })).toThrow(/"localhost" is not an IP address/);
    expect(() => proxyHeaders({ trusted: ["10.0.0.0/33"] })).toThrow(/invalid prefix length/);
    for (const bad of ["10.0.0.0/", "10.0.0.0/ 8", "10.0.0.0/0x8", "10.0.0.0/8.0", "10.0.0.0/1e1"]) {
      expect(() => proxyHeaders({ trusted: [bad] })).toThrow(/invalid prefix length/);
    }
    expect(() => proxyHeaders({ trusted: ["::ffff:10.0.0.0/8"] })).toThrow(/IPv4-mapped range shorter than \/96/);
  });
});
