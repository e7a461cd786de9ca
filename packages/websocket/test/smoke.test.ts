import { expect, test } from "vitest";
import { WebSocket as WsClient } from "ws";
import { websocket } from "@skein/websocket";
import { startHost } from "./support/host.js";

test("smoke echo", async () => {
  const app = websocket(function* (ws) {
    for (;;) {
      const msg = yield* ws.recv();
      if (msg === null) return;
      yield* ws.send(msg.data, { binary: msg.binary });
    }
  });
  const host = await startHost(app);
  const c = new WsClient(host.url + "/x");
  await new Promise((r, j) => { c.once("open", r); c.once("error", j); });
  const got = new Promise<[Buffer, boolean]>((r) => c.once("message", (d: Buffer, b: boolean) => r([d, b])));
  c.send("hello");
  const [d, b] = await got;
  expect(d.toString()).toBe("hello");
  expect(b).toBe(false);
  const closed = new Promise<number>((r) => c.once("close", (code: number) => r(code)));
  c.close(1000);
  expect(await closed).toBe(1000);
  await host.stop();
  console.log(host.logs);
});
