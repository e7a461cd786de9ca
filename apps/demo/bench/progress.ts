/**
 * The orchestrator's progress line on stderr: `[2/3] http  0:41  <the bench's
 * last line>`, redrawn in place on a terminal, one line per step otherwise.
 */
import type { BenchOutcome } from "./figures.js";
import { formatRatio, formatShare } from "./format.js";
import { meetsTarget, ratioOf } from "./figures.js";

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** A one-line summary of a finished bench, e.g. `"http done in 0:58: 4 figures, 3/4 targets met"`. */
export function summarize(outcome: BenchOutcome): string {
  const took = clock(outcome.seconds * 1000);
  if (!outcome.ok) return `${outcome.bench} FAILED after ${took}: ${outcome.error.split("\n")[0]}`;
  const rows = outcome.figures.rows;
  const targets = rows.filter((r) => meetsTarget(r) !== undefined);
  const met = targets.filter((r) => meetsTarget(r)).length;
  const ratios = rows.map((r) => ratioOf(r)).filter((r): r is number => r !== undefined).map(formatRatio);
  const exit = outcome.exitCode === 0 ? "" : ` (exit code ${outcome.exitCode})`;
  const steal = outcome.steal === undefined ? "" : `, CPU steal ${formatShare(outcome.steal)}`;
  return `${outcome.bench} done in ${took}${exit}: ${rows.length} figures, ${met}/${targets.length} targets met${ratios.length ? ` [${ratios.join(" ")}]` : ""}${steal}`;
}

export class Progress {
  private readonly tty = Boolean(process.stderr.isTTY);
  private index = 0;
  private name = "";
  private startedAt = 0;
  private last = "";
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly total: number) {}

  start(index: number, name: string): void {
    this.index = index;
    this.name = name;
    this.startedAt = Date.now();
    this.last = "";
    if (this.tty) {
      this.timer = setInterval(() => this.draw(), 1000);
      this.draw();
    } else {
      process.stderr.write(`${this.prefix()} starting\n`);
    }
  }

  detail(line: string): void {
    this.last = line.trim();
    if (this.tty) this.draw();
  }

  done(outcome: BenchOutcome): void {
    clearInterval(this.timer);
    if (this.tty) process.stderr.write("\r\x1b[K");
    process.stderr.write(`[${this.index + 1}/${this.total}] ${summarize(outcome)}\n`);
  }

  private prefix(): string {
    return `[${this.index + 1}/${this.total}] ${this.name}`;
  }

  private draw(): void {
    const width = process.stderr.columns ?? 100;
    const line = `${this.prefix()}  ${clock(Date.now() - this.startedAt)}  ${this.last}`;
    process.stderr.write(`\r\x1b[K${line.length > width - 1 ? line.slice(0, width - 2) + "…" : line}`);
  }
}
