// Streams a request body back (chunked), and answers JSON; curl it:
//   curl -X POST -T big.file http://127.0.0.1:8080/echo
//   curl -d '{"n":21}' http://127.0.0.1:8080/double
import { main, sleep } from "@skein/core";
import { Router, accessLog, compose, serve, type Request, type Response } from "@skein/http";

const router = new Router()
  .post("/echo", function* (req: Request, res: Response) {
    res.start(200, { "content-type": req.headers.get("content-type") ?? "application/octet-stream" });
    for (;;) {
      const chunk = yield* req.read(); // empty at the end of the body
      if (chunk.length === 0) break;
      yield* res.write(chunk); // waits while the client is not reading
    }
    res.end();
  })
  .post("/double", function* (req: Request, res: Response) {
    const { n } = yield* req.json<{ n: number }>({ maxBytes: 1024 }); // 413 past 1 KiB, 400 if not JSON
    return res.json(200, { doubled: n * 2 });
  })
  .get("/slow/:ms", function* (req: Request, res: Response) {
    yield* sleep(Number(req.params.ms)); // cancelled if the client goes away
    return res.text(200, `waited ${req.params.ms} ms\n`);
  });

await main(serve({
  port: Number(process.env.PORT ?? 8080),
  limits: { maxBodyBytes: 64 * 1024 * 1024 },
  onListening: (server) => console.log(`listening on http://${server.address}`),
}, compose(accessLog())(router.app())));
