// Rooms: each message to /rooms/:room goes to everyone else in the room,
// framed once for all of them (a Hub).
import { main } from "@skein/core";
import { Router, serve } from "@skein/http";
import { Hub, websocket } from "@skein/websocket";

const hub = new Hub({ maxBufferedBytes: 1 << 20, slowConsumer: "close" });

const room = websocket(function* (ws, req) {
  const topic = `room:${req.params.room}`;
  hub.subscribe(ws, topic);                       // left automatically on close
  for (let msg; (msg = yield* ws.recv()) !== null; ) {
    hub.publish(topic, msg.data, { binary: msg.binary, except: ws });
  }
});

const router = new Router().get("/rooms/:room", room);
await main(serve({
  port: Number(process.env.PORT ?? 8080),
  onListening: (server) => console.log(`listening on http://${server.address}`),
}, router.app()));
