// example: client-basics
import { all, run } from "@skein/core";
import { Agent, fetch } from "@skein/http";

const base = process.env.URL ?? "http://127.0.0.1:8080";

await run(function* () {
  const agent = new Agent({ connectionsPerOrigin: 4 }); // one pool per origin
  try {
    // status and headers first; the body is read with operations
    const res = yield* fetch(`${base}/hello`, { agent, headersTimeoutMs: 5_000 });
    console.log(res.status, res.headers.get("content-type"), yield* res.text());

    // a JSON round trip
    const echoed = yield* fetch(`${base}/echo`, {
      agent, method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ n: 1 }),
    });
    console.log(yield* echoed.json());

    // eight requests pipelined on one connection, answered in order
    const urls = Array.from({ length: 8 }, (_, i) => `${base}/item/${i}`);
    const bodies = yield* all(urls.map((url) => (function* () {
      const r = yield* fetch(url, { agent, pipeline: 8 });
      return yield* r.text();
    })()));
    console.log(bodies.join(" "));
  } finally {
    agent.close();
  }
});
