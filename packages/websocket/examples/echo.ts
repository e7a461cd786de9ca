// An echo endpoint at /echo.
import { main } from "@skein/core";
import { Router, serve } from "@skein/http";
import { websocket } from "@skein/websocket";

const echo = websocket(function* (ws, req) {
  for (;;) {
    const msg = yield* ws.recv();          // { data, binary }, or null once closed
    if (msg === null) return;              // returning closes with 1000
    yield* ws.send(msg.data, { binary: msg.binary });
  }
}, { maxPayloadBytes: 1 << 20 });

const router = new Router().get("/echo", echo);
await main(serve({
  port: Number(process.env.PORT ?? 8080),
  onListening: (server) => console.log(`listening on http://${server.address}`),
}, router.app()));
