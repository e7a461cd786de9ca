/**
 * `skein-load`: the command line of the load generator.
 *
 * @example
 * // skein-load http://127.0.0.1:8080/ -c 256 -p 16 -d 10s --expect-body 'Hello, World!'
 * @module
 */
import { setFlagsFromString } from "node:v8";
import { formatReport } from "./report.js";
import { parseArgs, USAGE, UsageError } from "./args.js";
import { runLoad } from "./run.js";
import type { LoadProgress } from "./options.js";

function progressLine(p: LoadProgress): string {
  const s = (p.elapsedMs / 1000).toFixed(0).padStart(3);
  return `${p.phase === "warmup" ? "warm-up" : "running"} ${s}s  ${Math.round(p.rate).toLocaleString("en-US").padStart(10)} req/s  ` +
    `${p.requests.toLocaleString("en-US")} ok  ${p.errors} errors  ${p.connected} connected`;
}

/**
 * V8 settings for a lean single-core load generator, set before anything
 * is allocated or compiled:
 * - `--optimize-for-size` and `--semi-space-growth-factor=1`: keep the heap
 *   small. skein-load allocates little per request, and V8's default heap
 *   growth would otherwise cost more than 10,000 connections do (measured:
 *   no cost in req/s).
 * - `--no-liftoff`: compile llhttp with the optimizing compiler when it is
 *   first used (priming, before any connection opens) instead of tiering up
 *   in the background mid-run: the ~35 MB that compilation briefly takes is
 *   then never on top of the connections, and the parser is at full speed
 *   from the first request.
 */
function tuneV8(): void {
  setFlagsFromString("--optimize-for-size");
  setFlagsFromString("--semi-space-growth-factor=1");
  setFlagsFromString("--no-liftoff");
}

async function main(argv: string[]): Promise<number> {
  tuneV8();
  let parsed;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`skein-load: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed.kind === "help") {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const tty = process.stderr.isTTY === true;
  const options = parsed.options;
  if (!parsed.quiet) {
    options.onProgress = (p) => process.stderr.write(tty ? `\r${progressLine(p)}\x1b[K` : `${progressLine(p)}\n`);
  }
  let report;
  try {
    report = await runLoad(options);
  } catch (e) {
    if (e instanceof RangeError || e instanceof TypeError) {
      process.stderr.write(`skein-load: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (!parsed.quiet && tty) process.stderr.write("\r\x1b[K");
  process.stdout.write(parsed.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`);
  // Nothing answered correctly (the run measured nothing), or a count was not reached.
  return report.requests > 0 && report.stoppedEarly === null ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`skein-load: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  },
);
