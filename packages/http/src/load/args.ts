/**
 * The command line of `skein-load`, parsed into {@link LoadOptions}.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { ERROR_KINDS, ERROR_KIND_MEANING } from "./stats.js";
import { parseDuration, type LoadOptions, type StatusRange } from "./options.js";

/** Usage text. */
export const USAGE = `usage: skein-load URL [options]

  -c, --connections N     connections to keep open (default 10)
  -p, --pipeline N        requests in flight per connection (default 1)
  -d, --duration DUR      measured time, e.g. 10s, 500ms, 2m (default 10s)
  -n, --count N           stop after N answered requests instead
  -m, --method M          request method (default GET)
  -b, --body STR|@file    request body (Content-Length)
  -H, --header 'k: v'     request header (repeatable)
      --rate R            total requests per second (default: as fast as possible)
      --warmup DUR        load but do not count for DUR first
      --expect-status S   successful statuses: 200, 2xx or 200-299 (default 200-399)
      --expect-body STR|@file   every response body must equal this
      --timeout DUR       close a connection whose answer is this late (default 10s);
                          with -n, end the run when nothing is answered this long
      --connect-timeout DUR  (default 10s)
      --connect-concurrency N  connections opened at once (default 1000, 0 = all)
  -k, --insecure          accept any TLS certificate (https: URLs)
      --json              print the report as one JSON object
  -q, --quiet             no progress line on stderr
  -h, --help

A response counts only if llhttp parses it and its status (and, with
--expect-body, its body) checks out. Errors are counted by kind:
${ERROR_KINDS.map((k) => `  ${k.padEnd(8)} ${ERROR_KIND_MEANING[k]}`).join("\n")}`;

/** What the command line asks for. */
export type ParsedArgs =
  | { kind: "help" }
  | { kind: "run"; options: LoadOptions; json: boolean; quiet: boolean };

/** Thrown for a bad command line; the message says what is wrong. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** `@path` reads a file; anything else is taken literally. */
function bytesArg(flag: string, value: string): string | Buffer {
  if (!value.startsWith("@")) return value;
  try {
    return readFileSync(value.slice(1));
  } catch (e) {
    throw new UsageError(`${flag} ${value}: cannot read ${JSON.stringify(value.slice(1))} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function intArg(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} expects a whole number, got ${JSON.stringify(value)}`);
  return n;
}

function durationArg(flag: string, value: string): number {
  try {
    return parseDuration(value);
  } catch {
    throw new UsageError(`${flag} expects a duration like 10s, 500ms or 2m, got ${JSON.stringify(value)}`);
  }
}

function statusArg(value: string): StatusRange {
  let m: RegExpExecArray | null;
  if ((m = /^([1-9])xx$/i.exec(value))) return { min: Number(m[1]) * 100, max: Number(m[1]) * 100 + 99 };
  if ((m = /^(\d{3})(?:-(\d{3}))?$/.exec(value))) return { min: Number(m[1]), max: Number(m[2] ?? m[1]) };
  throw new UsageError(`--expect-status expects 200, 2xx or 200-299, got ${JSON.stringify(value)}`);
}

/**
 * Parses `argv` (without the node and script paths).
 *
 * @example
 * parseArgs(["http://127.0.0.1:8080/", "-c", "256", "-p", "16", "-d", "10s"]);
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const options: Partial<LoadOptions> & { headers: [string, string][] } = { headers: [] };
  let json = false;
  let quiet = false;
  let url: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (eq > 0) return arg.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "-h": case "--help": return { kind: "help" };
      case "-c": case "--connections": options.connections = intArg(flag, value()); break;
      case "-p": case "--pipeline": options.pipeline = intArg(flag, value()); break;
      case "-d": case "--duration": options.durationMs = durationArg(flag, value()); break;
      case "-n": case "--count": options.count = intArg(flag, value()); break;
      case "-m": case "--method": options.method = value(); break;
      case "-b": case "--body": options.body = bytesArg("-b", value()); break;
      case "-H": case "--header": {
        const h = value();
        const colon = h.indexOf(":");
        if (colon <= 0) throw new UsageError(`-H expects 'name: value', got ${JSON.stringify(h)}`);
        options.headers.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()]);
        break;
      }
      case "--rate": {
        const r = Number(value());
        if (!(r > 0)) throw new UsageError("--rate expects a positive number of requests per second");
        options.rate = r;
        break;
      }
      case "--warmup": options.warmupMs = durationArg(flag, value()); break;
      case "--expect-status": options.expectStatus = statusArg(value()); break;
      case "--expect-body": options.expectBody = bytesArg("--expect-body", value()); break;
      case "--timeout": options.timeoutMs = durationArg(flag, value()); break;
      case "--connect-timeout": options.connectTimeoutMs = durationArg(flag, value()); break;
      case "--connect-concurrency": options.connectConcurrency = intArg(flag, value()); break;
      case "-k": case "--insecure": options.tls = { rejectUnauthorized: false }; break;
      case "--json": json = true; break;
      case "-q": case "--quiet": quiet = true; break;
      default:
        if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
        if (url !== undefined) throw new UsageError(`only one URL, got ${url} and ${arg}`);
        url = arg;
    }
  }
  if (url === undefined) throw new UsageError("a URL is required");
  if (options.headers.length === 0) delete (options as Partial<LoadOptions>).headers;
  return { kind: "run", options: { ...options, url }, json, quiet };
}
