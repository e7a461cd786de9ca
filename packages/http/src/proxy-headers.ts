/**
 * `proxyHeaders`: middleware that believes `X-Forwarded-For` and
 * `X-Forwarded-Proto` when, and only when, the connection comes from a
 * proxy you trust — the deployment behind nginx, HAProxy or a cloud load
 * balancer, where the socket's peer is the proxy and the client is named in
 * a header. It does what uvicorn's `--proxy-headers` /
 * `--forwarded-allow-ips` and nginx's `real_ip_recursive` do.
 *
 * Without it a server behind a proxy logs and rate-limits the proxy's
 * address; with it trusting every peer, any client could claim any address.
 * So the trusted set is explicit and defaults to the local machine.
 *
 * @module
 */
import { BlockList, isIP } from "node:net";
import type { App, ForwardedClient, Middleware, Request, Response } from "./app.js";
import { BaseRequest } from "./request.js";

/** Options of {@link proxyHeaders}. */
export interface ProxyHeadersOptions {
  /**
   * The proxies whose headers are believed: IP addresses (`10.0.0.7`,
   * `::1`), CIDR ranges (`10.0.0.0/8`, `fd00::/8`), `"unix"` for peers on a
   * Unix socket, or `"*"` for every peer (only when nothing but the proxy
   * can reach the server). Default: `["127.0.0.1", "::1", "unix"]`, the
   * local machine.
   */
  trusted?: readonly string[];
}

const DEFAULT_TRUSTED = ["127.0.0.1", "::1", "unix"];

/** Which peers are trusted proxies. */
class TrustedProxies {
  readonly #list = new BlockList();
  #any = false;
  #unix = false;

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim();
      if (entry === "*") this.#any = true;
      else if (entry === "unix") this.#unix = true;
      else this.#add(entry, raw);
    }
  }

  #add(entry: string, raw: string): void {
    const slash = entry.indexOf("/");
    const address = slash < 0 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    if (family === 0) throw new TypeError(`proxyHeaders: trusted entry ${JSON.stringify(raw)} is not an IP address, a CIDR range, "unix" or "*"`);
    const type = family === 4 ? "ipv4" : "ipv6";
    if (slash < 0) {
      this.#list.addAddress(address, type);
      return;
    }
    const bits = Number(entry.slice(slash + 1));
    if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128) || entry.slice(slash + 1).trim() === "") {
      throw new TypeError(`proxyHeaders: trusted entry ${JSON.stringify(raw)} has an invalid prefix length`);
    }
    this.#list.addSubnet(address, bits, type);
  }

  /** Whether a peer (`undefined`: a Unix socket) is trusted. */
  trusts(address: string | undefined): boolean {
    if (this.#any) return true;
    if (address === undefined || address === "") return this.#unix;
    const ip = bareAddress(address);
    const family = isIP(ip);
    return family !== 0 && this.#list.check(ip, family === 4 ? "ipv4" : "ipv6");
  }
}

/**
 * The IP in an address as proxies write it: brackets and a port
 * (`[::1]:80`, `1.2.3.4:80`) are dropped. (IPv4-mapped IPv6 such as
 * `::ffff:127.0.0.1`, a peer on a dual-stack socket, needs nothing here:
 * `BlockList` matches it against IPv4 rules.)
 */
function bareAddress(address: string): string {
  let a = address;
  if (a.charCodeAt(0) === 0x5b /* [ */) {
    const end = a.indexOf("]");
    a = end < 0 ? a : a.slice(1, end);
  } else {
    const colon = a.indexOf(":");
    if (colon > 0 && a.indexOf(":", colon + 1) < 0) a = a.slice(0, colon); // IPv4 with a port
  }
  return a;
}

/**
 * The client named by an `X-Forwarded-For` list (all its field lines, in
 * order): walking from the right — the entry the nearest proxy added — past
 * trusted proxies, the first entry that is not one. Every entry trusted: the
 * leftmost. Null when the list is empty.
 */
function forwardedFor(values: readonly string[], trusted: TrustedProxies): string | null {
  const entries = values.join(",").split(",");
  let client: string | null = null;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!.trim();
    if (entry === "") continue;
    client = bareAddress(entry);
    if (isIP(client) === 0 || !trusted.trusts(client)) break;
  }
  return client;
}

/** `X-Forwarded-Proto`'s verdict: true for https/wss, false for http/ws, null when absent or unknown. */
function forwardedSecure(values: readonly string[]): boolean | null {
  if (values.length === 0) return null;
  const last = values[values.length - 1]!;
  const proto = last.slice(last.lastIndexOf(",") + 1).trim().toLowerCase();
  if (proto === "https" || proto === "wss") return true;
  if (proto === "http" || proto === "ws") return false;
  return null;
}

/**
 * Middleware: when the peer is a trusted proxy, `req.remoteAddress` becomes
 * the client named in `X-Forwarded-For` (its `remotePort` then `undefined`,
 * as no proxy reports it) and `req.secure` follows `X-Forwarded-Proto`; the
 * proxy's own address stays in `req.forwarded.proxyAddress`. Requests from
 * other peers are left as they are, headers and all. Put it first, so that
 * the access log and the app see the client.
 *
 * @example
 * // nginx on this machine: proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
 * serve({ port: 8080 }, compose(proxyHeaders(), accessLog())(app));
 *
 * @example
 * proxyHeaders({ trusted: ["10.0.0.0/8"] }) // the load balancers' network
 */
export function proxyHeaders(options: ProxyHeadersOptions = {}): Middleware {
  const trusted = new TrustedProxies(options.trusted ?? DEFAULT_TRUSTED);
  return (next: App): App => (req: Request, res: Response) => {
    if (!(req instanceof BaseRequest)) {
      throw new TypeError("proxyHeaders: the request is not a BaseRequest, so its client cannot be set");
    }
    const proxy = req.remoteAddress;
    if (req.forwarded === null && trusted.trusts(proxy)) {
      const headers = req.headers;
      const client = forwardedFor(headers.getAll("x-forwarded-for"), trusted);
      const secure = forwardedSecure(headers.getAll("x-forwarded-proto"));
      if (client !== null || secure !== null) {
        const forwarded: ForwardedClient = {
          remoteAddress: client ?? proxy,
          remotePort: client === null ? req.remotePort : undefined,
          secure: secure ?? req.secure,
          proxyAddress: proxy,
        };
        req.forwarded = forwarded;
      }
    }
    return next(req, res);
  };
}
