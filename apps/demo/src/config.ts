/**
 * The demo's command line: flags override the `PORT`/`HOST` environment
 * variables, which override the defaults (127.0.0.1:8080, one process).
 *
 * @example
 * ```ts
 * const config = parseConfig(process.argv.slice(2), process.env);
 * // node dist/main.js --port 0 --workers 2 --max-body-size 65536
 * ```
 */
import os from "node:os";

/** The HTTP limits the demo's flags can set; names match @skein/http's `HttpLimits`. */
export interface DemoLimits {
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  maxHeadBytes?: number;
  maxBodyBytes?: number;
}

export interface DemoConfig {
  host: string;
  /** 0 = any free port (printed once listening). */
  port: number;
  /** Processes serving the port; 1 = no cluster. */
  workers: number;
  limits: DemoLimits;
}

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8080;

/** Why an argument was rejected. */
export type ConfigProblem = "unknown-option" | "missing-value" | "not-an-integer" | "out-of-range" | "empty";

/** Thrown for a bad command line; `main` prints it with the usage and exits 2. */
export class ConfigError extends Error {
  readonly code = "DEMO_ERR_BAD_ARGUMENT";
  constructor(
    /** The flag or environment variable at fault (`"--port"`, `"PORT"`). */
    readonly option: string,
    readonly problem: ConfigProblem,
    message: string,
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

export const USAGE = `Usage: node apps/demo/dist/main.js [options]      (or: pnpm start [options])

  --port N                 port to listen on (env PORT; default 8080; 0 = any free port)
  --host H                 address to bind (env HOST; default 127.0.0.1)
  --headers-timeout MS     time allowed for a request's head (slowloris guard)
  --request-timeout MS     time allowed for a whole request, body included
  --keep-alive-timeout MS  how long an idle keep-alive connection stays open
  --max-header-size BYTES  largest request head (431 past it)
  --max-body-size BYTES    largest request body (413 past it)
  --workers N              processes sharing the port (default 1; 0 = one per core)
  --help                   print this and exit

Limits left out keep @skein/http's defaults; 0 means "no limit" for each of them.`;

type Kind = "port" | "count" | "ms" | "bytes" | "host";

const FLAGS: Record<string, { kind: Kind; set: (c: DemoConfig, v: number | string) => void }> = {
  "--port": { kind: "port", set: (c, v) => (c.port = v as number) },
  "--host": { kind: "host", set: (c, v) => (c.host = v as string) },
  "--headers-timeout": { kind: "ms", set: (c, v) => (c.limits.headersTimeoutMs = v as number) },
  "--request-timeout": { kind: "ms", set: (c, v) => (c.limits.requestTimeoutMs = v as number) },
  "--keep-alive-timeout": { kind: "ms", set: (c, v) => (c.limits.keepAliveTimeoutMs = v as number) },
  "--max-header-size": { kind: "bytes", set: (c, v) => (c.limits.maxHeadBytes = v as number) },
  "--max-body-size": { kind: "bytes", set: (c, v) => (c.limits.maxBodyBytes = v as number) },
  "--workers": { kind: "count", set: (c, v) => (c.workers = v === 0 ? os.availableParallelism() : (v as number)) },
};

function value(kind: Kind, raw: string, what: string): number | string {
  if (kind === "host") {
    if (raw === "") throw new ConfigError(what, "empty", `${what} needs a host name or address`);
    return raw;
  }
  if (!/^\d+$/.test(raw)) throw new ConfigError(what, "not-an-integer", `${what} must be a non-negative integer, got "${raw}"`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new ConfigError(what, "out-of-range", `${what} is too large: ${raw}`);
  if (kind === "port" && n > 65535) throw new ConfigError(what, "out-of-range", `${what} must be at most 65535, got ${n}`);
  if (kind === "count" && n > 1024) throw new ConfigError(what, "out-of-range", `${what} must be at most 1024, got ${n}`);
  return n;
}

/**
 * Parses flags (`--port 80` or `--port=80`) and the environment. Returns
 * `"help"` for `--help`; throws {@link ConfigError} for anything it does not
 * understand. A `--` is skipped: `npm start -- --port 80` needs one, and
 * pnpm passes it on as an argument.
 */
export function parseConfig(argv: readonly string[], env: Record<string, string | undefined> = {}): DemoConfig | "help" {
  const config: DemoConfig = { host: DEFAULT_HOST, port: DEFAULT_PORT, workers: 1, limits: {} };
  if (env.HOST !== undefined && env.HOST !== "") FLAGS["--host"]!.set(config, value("host", env.HOST, "HOST"));
  if (env.PORT !== undefined && env.PORT !== "") FLAGS["--port"]!.set(config, value("port", env.PORT, "PORT"));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") continue;
    if (arg === "--help" || arg === "-h") return "help";
    const eq = arg.indexOf("=");
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const flag = FLAGS[name];
    if (!flag) throw new ConfigError(name, "unknown-option", `unknown option "${arg}"`);
    let raw: string | undefined;
    if (eq > 0) raw = arg.slice(eq + 1);
    else raw = argv[++i];
    if (raw === undefined) throw new ConfigError(name, "missing-value", `${name} needs a value`);
    flag.set(config, value(flag.kind, raw, name));
  }
  return config;
}

/** `http://HOST:PORT` with IPv6 addresses bracketed. */
export function urlOf(host: string, port: number): string {
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}
