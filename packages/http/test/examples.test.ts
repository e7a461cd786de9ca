// The README's examples are the files in examples/, verbatim; each one
// type-checks, bundles, runs, and answers like the README says.
import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { readmeExamples } from "../../../scripts/example-runner.js";
import { exchange } from "./helpers/server.js";

describe("README examples", () => {
  const examples = readmeExamples(import.meta.url, ["hello", "echo", "node", "upgrade", "middleware", "parser"]);

  it("hello.ts answers Hello, World!", async () => {
    const port = await examples.start("hello");
    const r = await exchange(port, "GET /anything HTTP/1.1\r\nHost: x\r\n\r\n", { count: 1 });
    expect(r.responses[0]!.body).toBe("Hello, World!\n");
  });

  it("echo.ts streams a body back, doubles JSON and waits", async () => {
    const port = await examples.start("echo");
    const e = await exchange(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/x-test\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", { count: 1 });
    expect([e.responses[0]!.header("content-type"), e.responses[0]!.body]).toEqual(["text/x-test", "abc"]);
    const d = await exchange(port, "POST /double HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n{\"n\":21}", { count: 1 });
    expect(JSON.parse(d.responses[0]!.body)).toEqual({ doubled: 42 });
    const s = await exchange(port, "GET /slow/5 HTTP/1.1\r\nHost: x\r\n\r\n", { count: 1 });
    expect(s.responses[0]!.body).toBe("waited 5 ms\n");
  });

  it("node.ts serves the app on node:http", async () => {
    const port = await examples.start("node");
    const r = await exchange(port, "GET /hello/ada HTTP/1.1\r\nHost: x\r\n\r\n", { count: 1 });
    expect(r.responses[0]!.body).toBe("hello ada from node:http\n");
  });

  it("middleware.ts logs timing and access lines, with the client proxyHeaders names", async () => {
    const output: string[] = [];
    const port = await examples.start("middleware", output);
    const r = await exchange(port, "GET /whoami HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n", { count: 1 });
    expect(r.responses[0]!.body).toBe("203.0.113.7 http\n");
    for (const t0 = Date.now(); !/\/whoami 200 17 sent/.test(output.join("")) && Date.now() - t0 < 2000; ) await new Promise((w) => setTimeout(w, 10));
    expect(output.join("")).toMatch(/^203\.0\.113\.7 "GET \/whoami HTTP\/1\.1" 200 17 /m);
    expect(output.join("")).toMatch(/^\/whoami 200 17 sent \d/m);
  });

  it("parser.ts parses a request from bytes", async () => {
    const stdout = await examples.output("parser");
    expect(stdout).toBe("GET / 1\nused 27\n");
  });

  it("upgrade.ts switches protocols and echoes", async () => {
    const port = await examples.start("upgrade");
    const refused = await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", { count: 1 });
    expect(refused.responses[0]!.status).toBe(426);
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const echoed = new Promise<void>((resolve) => socket.on("data", (d) => {
      text += d.toString("latin1");
      if (text.endsWith("early|late|")) resolve();
    }));
    socket.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly|");
    socket.write("late|");
    await echoed;
    socket.destroy();
    expect(text.startsWith("HTTP/1.1 101 Switching Protocols\r\n")).toBe(true);
  });
});
