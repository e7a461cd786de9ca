// A chat: /chat?name=ada greets, then echoes each message prefixed with the name.
import { main } from "@skein/core";
import { Router, serve } from "@skein/http";
import { websocket } from "@skein/websocket";

const chat = websocket(function* (ws, req) {
  const name = req.searchParams.get("name") ?? "anonymous";
  try {
    yield* ws.send(`welcome, ${name}`);
    for (let msg; (msg = yield* ws.recv()) !== null; ) {
      if (msg.binary) throw new Error("text only"); // → 1011 and logged
      yield* ws.send(`${name}: ${msg.text}`);
    }
  } finally {
    console.log(`${name} left`); // runs however it ends: a close, an error, cancellation
  }
});

const router = new Router().get("/chat", chat);
await main(serve({
  port: Number(process.env.PORT ?? 8080),
  onListening: (server) => console.log(`listening on http://${server.address}`),
}, router.app()));
