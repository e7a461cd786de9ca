/**
 * Figures, the table and the `--json` object of `pnpm bench:core`. The JSON
 * shape is shared by every Skein bench (scripts/bench-figures.ts).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { meetsTarget, ratioOf, type FigureRow } from "../../../scripts/bench-figures.js";

export { machineInfo, type BenchFigures, type FigureRow, type MachineInfo } from "../../../scripts/bench-figures.js";

/** A row with its ratio filled in. */
export function withRatio(row: FigureRow): FigureRow {
  const ratio = ratioOf(row);
  return ratio === undefined || row.ratio !== undefined ? row : { ...row, ratio };
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (abs >= 100) return Math.round(n).toString();
  return Number(n.toPrecision(3)).toString();
}

function formatRatio(r: number): string {
  return r >= 10 ? `${r.toFixed(1)}x` : `${r.toFixed(2)}x`;
}

/** The human-readable table: figure, Skein, baseline, ratio, target, PASS/MISS. */
export function table(rows: FigureRow[]): string {
  const head = ["figure", "Skein", "baseline", "ratio", "target", ""];
  const body = rows.map((r) => {
    const ok = meetsTarget(r);
    const op = (r.better ?? "higher") === "lower" ? "≤" : "≥";
    return [
      r.name,
      `${formatNumber(r.value)} ${r.unit}`,
      r.baseline ? `${formatNumber(r.baseline.value)} ${r.unit} (${r.baseline.name})` : "",
      r.ratio !== undefined ? formatRatio(r.ratio) : "",
      r.target ? `${op} ${formatRatio(r.target.ratio)} ${r.target.of}` : "",
      ok === undefined ? "" : ok ? "PASS" : "MISS",
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  const out = [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)];
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.name}: ${r.note}`);
  if (notes.length > 0) out.push("", "notes:", ...notes);
  return out.join("\n") + "\n";
}

/** `gc()` for measurement hygiene, without needing `--expose-gc` on the command line. */
export const gc: () => void = (() => {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === "function") return g;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
})();

/**
 * Warms each measurement up, then runs them `runs` times in turn
 * (interleaved, so a change in machine load hits all of them alike) and
 * returns each one's best (highest) value.
 */
export async function bestOfEach<K extends string>(runs: number, measures: Record<K, () => Promise<number>>): Promise<Record<K, number>> {
  const keys = Object.keys(measures) as K[];
  const best = {} as Record<K, number>;
  // Warm up until the JIT and the young generation have settled: at least
  // one run and 500 ms, at most 10 runs.
  for (const k of keys) {
    const until = performance.now() + 500;
    for (let i = 0; i < 10 && (i === 0 || performance.now() < until); i++) {
      gc();
      await measures[k]();
    }
    best[k] = -Infinity;
  }
  for (let i = 0; i < runs; i++) {
    for (const k of keys) {
      gc();
      best[k] = Math.max(best[k], await measures[k]());
    }
  }
  return best;
}

/** Progress for humans; stderr, so `--json` keeps stdout to the one object. */
export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}
