/**
 * Request targets: an absolute `http:`/`https:` URL split into what the
 * client needs — the origin that picks a connection pool, the address to
 * connect to, the Host header, and the request-target (RFC 9112 §3.2.1).
 *
 * @module
 */

/** An absolute URL, resolved for the client. */
export interface Target {
  /** The full URL, as a string. */
  readonly href: string;
  /** `http://host:port`: the key of the connection pool. */
  readonly origin: string;
  readonly secure: boolean;
  /** Host name or address to connect to (IPv6 without brackets). */
  readonly hostname: string;
  readonly port: number;
  /** The Host header: `host` or `host:port` when the port is not the scheme's default. */
  readonly hostHeader: string;
  /** The origin-form request target: path and query. */
  readonly path: string;
}

/**
 * Resolves `url` (relative to `base`, for redirects). Throws a TypeError for
 * anything but an absolute `http:` or `https:` URL.
 *
 * @example
 * parseTarget("http://127.0.0.1:8080/a?b=1").path; // "/a?b=1"
 */
export function parseTarget(url: string | URL, base?: string): Target {
  let u: URL;
  try {
    u = typeof url === "string" ? new URL(url, base) : url;
  } catch {
    throw new TypeError(`not a valid URL: ${String(url)}`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new TypeError(`only http: and https: URLs are supported, got ${u.protocol}`);
  if (u.username !== "" || u.password !== "") throw new TypeError("credentials in the URL are not supported; send an Authorization header");
  const secure = u.protocol === "https:";
  const port = u.port === "" ? (secure ? 443 : 80) : Number(u.port);
  const hostname = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
  return {
    href: u.href,
    origin: `${u.protocol}//${u.host === "" ? u.hostname : u.host}${u.port === "" ? `:${port}` : ""}`,
    secure,
    hostname,
    port,
    hostHeader: u.host,
    path: `${u.pathname || "/"}${u.search}`,
  };
}
