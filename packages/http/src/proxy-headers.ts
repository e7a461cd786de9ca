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
   * local machine. IPv4 rules also match IPv4-mapped peers
   * (`::ffff:10.0.0.7`, on a dual-stack socket); an IPv4-mapped entry
   * (`::ffff:10.0.0.0/104`) is taken as the IPv4 rule it means; and an IPv6
   * range that covers `::ffff:0:0/96` (such as `::/0`) covers IPv4 too.
   */
  trusted?: readonly string[];
}

const DEFAULT_TRUSTED = ["127.0.0.1", "::1", "unix"];

/** BlockList's name for an `isIP` family (4 or 6). */
const ipType = (family: number) => (family === 4 ? "ipv4" : "ipv6");

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
    let address = slash < 0 ? entry : entry.slice(0, slash);
    let family = isIP(address);
    if (family === 0) throw new TypeError(`proxyHeaders: trusted entry ${JSON.stringify(raw)} is not an IP address, a CIDR range, "unix" or "*"`);
    let bits = family === 4 ? 32 : 128;
    if (slash >= 0) {
      const digits = entry.slice(slash + 1);
      if (!/^\d{1,3}$/.test(digits) || Number(digits) > bits) {
        throw new TypeError(`proxyHeaders: trusted entry ${JSON.stringify(raw)} has an invalid prefix length`);
      }
      bits = Number(digits);
    }
    // ::ffff:a.b.c.d/n is the IPv4 rule a.b.c.d/(n - 96); taken as IPv6 it
    // would be a range around :: that BlockList also matches IPv4 peers against.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped !== null) {
      if (bits < 96) throw new TypeError(`proxyHeaders: trusted entry ${JSON.stringify(raw)} is an IPv4-mapped range shorter than /96`);
      address = mapped[1]!;
      family = 4;
      bits -= 96;
    }
    this.#list.addSubnet(address, bits, ipType(family));
  }

  /** Whether the peer of `req` is trusted. */
  trustsPeer(req: Request): boolean {
    if (this.#any) return true;
    // Decided by the listener, never by a missing address: a TCP peer that
    // reset its connection before it was accepted has no address.
    if (req.unixSocket) return this.#unix;
    const address = req.remoteAddress;
    return address !== undefined && this.trusts(address);
  }

  /** Whether an IP address (no brackets, no port; `family` from `isIP`) is trusted. */
  trusts(ip: string, family: number = isIP(ip)): boolean {
    if (this.#any) return true;
    return family !== 0 && this.#list.check(ip, ipType(family));
  }
}

/**
 * The IP in an address as proxies write it: brackets and a port
 * (`[::1]:80`, `1.2.3.4:80`) are dropped. (IPv4-mapped IPv6 such as
 * `::ffff:127.0.0.1`, a peer on a dual-stack socket, needs nothing here:
 * `BlockList` matches it against IPv4 rules.)
 */
function bareAddress(address: string): string {
  if (address.charCodeAt(0) === 0x5b /* [ */) {
    const end = address.indexOf("]");
    return end < 0 ? address : address.slice(1, end);
  }
  const colon = address.indexOf(":");
  // One colon: IPv4 with a port. More: IPv6, left as it is.
  return colon > 0 && address.indexOf(":", colon + 1) < 0 ? address.slice(0, colon) : address;
}

/**
 * The client named by an `X-Forwarded-For` list (all its field lines, in
 * order): walking from the right — the entry the nearest proxy added — past
 * trusted proxies, the first entry that is not one; every entry trusted:
 * the leftmost. An entry that is no IP address (`unknown`, garbage) ends
 * the walk at the last address before it, as nginx's real_ip does, so the
 * result is always an IP address. Null when no address was named.
 */
function forwardedFor(values: readonly string[], trusted: TrustedProxies): string | null {
  const entries = values.join(",").split(",");
  let client: string | null = null;
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!.trim();
    if (entry === "") continue;
    const ip = bareAddress(entry);
    const family = isIP(ip);
    if (family === 0) break;
    client = ip;
    if (!trusted.trusts(ip, family)) break;
  }
  return client;
}

/** The last non-empty entry of a comma-separated header's field lines, or null. */
function lastEntry(values: readonly string[]): string | null {
  for (let i = values.length - 1; i >= 0; i--) {
    const parts = values[i]!.split(",");
    for (let k = parts.length - 1; k >= 0; k--) {
      const part = parts[k]!.trim();
      if (part !== "") return part;
    }
  }
  return null;
}

/** `X-Forwarded-Proto`'s verdict: true for https/wss, false for http/ws, null when absent or unknown. */
function forwardedSecure(values: readonly string[]): boolean | null {
  const proto = lastEntry(values)?.toLowerCase();
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
 * the access log and the app see the client. Once one `proxyHeaders` has
 * named the client, a later one (say with other trusted proxies) leaves it.
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
    if (req.forwarded === null && trusted.trustsPeer(req)) {
      const proxy = req.remoteAddress;
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
