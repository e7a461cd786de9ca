// Taking a connection over (what @skein/websocket builds on): a toy
// line-echo protocol behind `Upgrade: echo`.
//   curl -i -N -H "Connection: Upgrade" -H "Upgrade: echo" http://127.0.0.1:8080/
import { action, main } from "@skein/core";
import { serve, type Request, type Response } from "@skein/http";

function* app(req: Request, res: Response) {
  if (!req.upgrade || req.headers.get("upgrade") !== "echo") return res.text(426, "send Upgrade: echo\n", { upgrade: "echo" });
  const { socket, head, onShutdown } = yield* req.takeover(); // earlier pipelined responses are flushed first
  onShutdown(() => socket.end("server going away\n")); // server.close({ graceMs }) calls this
  socket.write("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
  if (head.length > 0) socket.write(head); // bytes the client sent right after its request
  socket.on("data", (data) => socket.write(data));
  socket.on("end", () => socket.end());
  socket.resume();
  yield* action<void>("echo session", (resolve) => void socket.once("close", () => resolve()));
}

await main(serve({
  port: Number(process.env.PORT ?? 8080),
  onListening: (server) => console.log(`listening on http://${server.address}`),
}, app));
