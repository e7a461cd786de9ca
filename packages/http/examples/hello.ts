// The smallest server: a prepared response, served on every path.
import { main } from "@skein/core";
import { Prepared, serve } from "@skein/http";

const hello = Prepared.text(200, "Hello, World!\n"); // built once, served as one copy

await main(serve({
  port: Number(process.env.PORT ?? 8080),
  onListening: (server) => console.log(`listening on http://${server.address}`),
}, () => hello));
