import { describe, expect, it } from "vitest";
import type { Request, Response } from "../../src/app.js";
import { exchange, normalizeDate, startServer } from "../helpers/server.js";

describe("smoke", () => {
  it("answers a GET with a prepared response", async () => {
    const s = await startServer(function* (_req: Request, res: Response) {
      return res.text(200, "Hello, World!");
    });
    try {
      const r = await exchange(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", { count: 1 });
      expect(normalizeDate(r.raw)).toBe("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 13\r\nDate: <date>\r\n\r\nHello, World!");
    } finally {
      await s.stop();
    }
  });
});
