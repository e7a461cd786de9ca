// Middleware: a timing line from res.onFinish, behind proxyHeaders and accessLog.
import { main } from "@skein/core";
import { accessLog, compose, proxyHeaders, Router, serve, type Middleware, type Request, type Response } from "@skein/http";

const timing: Middleware = (next) => (req, res) => {
  const t0 = performance.now();
  res.onFinish(({ status, bodyBytes, complete }) => {
    console.log(req.path, status, bodyBytes, complete ? "sent" : "cut short", performance.now() - t0);
  });
  return next(req, res);
};

const app = new Router()
  .get("/whoami", (req: Request, res: Response) => res.text(200, `${req.remoteAddress} ${req.secure ? "https" : "http"}\n`))
  .app();

// nginx: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
//        proxy_set_header X-Forwarded-Proto $scheme;
// proxyHeaders() trusts the local machine; name other proxies: proxyHeaders({ trusted: ["10.0.0.0/8"] }).
await main(serve({
  port: Number(process.env.PORT ?? 8080),
  onListening: (server) => console.log(`listening on http://${server.address}`),
}, compose(proxyHeaders(), accessLog(), timing)(app)));
