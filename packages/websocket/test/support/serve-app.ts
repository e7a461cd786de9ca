/**
 * Serves an app for the tests. Until @skein/http's server exists this is a
 * stand-in: one request per connection, head read line by line, enough of
 * the `Request`/`Response` contract for `websocket()` (method, target,
 * httpVersion, headers.get, upgrade, takeover, res.text).
 */
import { serve, type Conn, type Operation } from "@skein/core";

type AnyApp = (req: any, res: any) => Operation<unknown>;

class Reply {
  constructor(
    readonly status: number,
    readonly body: string,
    readonly headers: Record<string, string>,
  ) {}
}

export function* serveApp(app: unknown, onPort: (port: number) => void): Generator<unknown, void, any> {
  yield* serve({ port: 0, onListening: (a) => onPort(a.port) }, (conn) => handle(conn, app as AnyApp));
}

function* handle(conn: Conn, app: AnyApp): Generator<unknown, void, any> {
  const first = (yield* conn.readLine()).toString("latin1").trimEnd();
  if (first === "") return;
  const [method = "", target = "", version = ""] = first.split(" ");
  const fields = new Map<string, string>();
  for (;;) {
    const line = (yield* conn.readLine()).toString("latin1").trimEnd();
    if (line === "") break;
    const i = line.indexOf(":");
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    fields.set(name, fields.has(name) ? `${fields.get(name)}, ${value}` : value);
  }
  const connection = fields.get("connection") ?? "";
  let detached = false;
  const req = {
    method,
    target,
    path: target.split("?")[0],
    httpVersion: version.replace("HTTP/", ""),
    headers: { get: (n: string) => fields.get(n.toLowerCase()) ?? null },
    upgrade: /(^|,)\s*upgrade\s*(,|$)/i.test(connection) && fields.has("upgrade"),
    *takeover() {
      detached = true;
      return conn.detach();
    },
  };
  const res = { text: (status: number, body: string, headers: Record<string, string> = {}) => new Reply(status, body, headers) };
  const out = yield* app(req, res);
  if (detached) return;
  if (out instanceof Reply) {
    let head = `HTTP/1.1 ${out.status} X\r\ncontent-length: ${Buffer.byteLength(out.body)}\r\n`;
    for (const [k, v] of Object.entries(out.headers)) head += `${k}: ${v}\r\n`;
    yield* conn.sendAll(head + "\r\n" + out.body);
  }
}
