// The same app on node:http (the WSGI promise: one app, any server).
import { createServer } from "node:http";
import { Router, toNodeListener, type Request, type Response } from "@skein/http";

const app = new Router()
  .get("/hello/:name", function* (req: Request, res: Response) {
    return res.text(200, `hello ${req.params.name} from node:http\n`);
  })
  .app();

const listener = toNodeListener(app);
const server = createServer(listener);
server.on("upgrade", listener.upgrade); // lets handlers take Upgrade requests over
server.listen(Number(process.env.PORT ?? 8080), "127.0.0.1", () => {
  const { port } = server.address() as { port: number };
  console.log(`listening on http://127.0.0.1:${port}`);
});
