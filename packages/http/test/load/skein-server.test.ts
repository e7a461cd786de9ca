// The load generator and the client against Skein's own HTTP server.
import { all, run } from "@skein/core";
import { afterEach, describe, expect, it } from "vitest";
import { Agent, fetch } from "../../src/client/index.js";
import { runLoad } from "../../src/load/index.js";
import { Router, type Request, type Response } from "../../src/index.js";
import { startServer, type Running } from "../helpers/server.js";

let server: Running | null = null;
afterEach(async () => {
  await server?.stop();
  server = null;
});

function counting() {
  const seen = { hello: 0, posts: 0 };
  const app = new Router()
    .get("/hello", function* (_req: Request, res: Response) {
      seen.hello++;
      return res.text(200, "Hello, World!");
    })
    .post("/sum", function* (req: Request, res: Response) {
      seen.posts++;
      const { a, b } = yield* req.json<{ a: number; b: number }>();
      return res.json(200, { sum: a + b });
    })
    .get("/n/:n", function* (req: Request, res: Response) {
      return res.text(200, `n=${req.params.n}`);
    })
    .app();
  return { seen, app };
}

describe("against Skein's server", () => {
  it("load: pipelined 16 deep, every answer checked, counts match what the server saw", async () => {
    const { seen, app } = counting();
    server = await startServer(app);
    const r = await runLoad({ url: `http://127.0.0.1:${server.port}/hello`, connections: 16, pipeline: 16, count: 20_000, expectBody: "Hello, World!" });
    expect([r.requests, r.responses, r.sent, r.errorTotal, seen.hello]).toEqual([20_000, 20_000, 20_000, 0, 20_000]);
    expect(r.statusCounts).toEqual({ "200": 20_000 });
  });

  it("load: POST bodies, and a wrong --expect-body scores nothing", async () => {
    const { seen, app } = counting();
    server = await startServer(app);
    const url = `http://127.0.0.1:${server.port}/sum`;
    const good = await runLoad({ url, connections: 2, pipeline: 4, count: 200, method: "POST", body: '{"a":1,"b":2}', headers: { "content-type": "application/json" }, expectBody: '{"sum":3}' });
    const bad = await runLoad({ url, connections: 2, pipeline: 4, count: 200, method: "POST", body: '{"a":1,"b":2}', expectBody: '{"sum":4}' });
    expect([good.requests, good.errorTotal, bad.requests, bad.errors.body, seen.posts]).toEqual([200, 0, 0, 200, 400]);
  });

  it("client: keep-alive, a JSON POST, and 16 pipelined requests answered in order", async () => {
    const { app } = counting();
    server = await startServer(app);
    const base = `http://127.0.0.1:${server.port}`;
    const got = await run(function* () {
      const agent = new Agent({ connectionsPerOrigin: 1, pipeline: 16 });
      try {
        const hello = yield* (yield* fetch(`${base}/hello`, { agent })).text();
        const sum = yield* (yield* fetch(`${base}/sum`, { agent, method: "POST", body: JSON.stringify({ a: 20, b: 22 }) })).json();
        const ns = yield* all(Array.from({ length: 16 }, (_, i) => (function* () {
          return yield* (yield* fetch(`${base}/n/${i}`, { agent })).text();
        })()));
        return { hello, sum, ns, pool: agent.pools.get(base)!.size };
      } finally {
        agent.close();
      }
    });
    expect(got).toEqual({ hello: "Hello, World!", sum: { sum: 42 }, ns: Array.from({ length: 16 }, (_, i) => `n=${i}`), pool: 1 });
  });
});
