/**
 * The figures every Skein benchmark prints with `--json`, shared by the
 * package benches (core, http, websocket, load) and the demo's `pnpm bench`
 * orchestrator. Dependency-free, so any bench may import it without the
 * packages depending on the demo app.
 *
 * @example
 * const figures: BenchFigures = {
 *   bench: "http",
 *   rows: [{ name: "plaintext, pipelined 16", value: 1_020_000, unit: "req/s",
 *            baseline: { name: "node:http", value: 81_000 }, target: { ratio: 12, of: "node:http" } }],
 *   machine: machineInfo(),
 * };
 * console.log(JSON.stringify(figures));
 */
import { arch, cpus, release, totalmem, type as osType } from "node:os";

/** Which way a figure improves: req/s are `higher`, bytes per connection `lower`. */
export type Better = "higher" | "lower";

/** One measured figure, optionally compared with a baseline measured in the same run. */
export interface FigureRow {
  /** What was measured, e.g. `"plaintext, pipelined 16"`. */
  name: string;
  /** Skein's figure. */
  value: number;
  /** Unit of `value` and `baseline.value`, e.g. `"req/s"`, `"msg/s"`, `"B/conn"`. */
  unit: string;
  /** Which way is better; `"higher"` when absent. */
  better?: Better;
  /** The same measurement on the baseline, in the same run and unit. */
  baseline?: { name: string; value: number };
  /** `value / baseline.value`; computed from the two when absent. */
  ratio?: number;
  /** The goal: `ratio` at least `target.ratio` (at most, when `better` is `"lower"`), relative to the baseline named `of`. */
  target?: { ratio: number; of: string };
  /** Free-form remark shown under the table (e.g. "wrk -c256 -t1 -d10s"). */
  note?: string;
}

/** Facts about the machine a bench ran on; every field optional. */
export interface MachineInfo {
  cpu?: string;
  cores?: number;
  memoryBytes?: number;
  node?: string;
  os?: string;
  [key: string]: string | number | boolean | undefined;
}

/** What one benchmark prints with `--json`. */
export interface BenchFigures {
  /** Short name: `"core"`, `"http"`, `"ws"`, `"load"`. */
  bench: string;
  rows: FigureRow[];
  machine?: MachineInfo;
}

/** `value / baseline.value` (or the row's own `ratio`), undefined without a baseline. */
export function ratioOf(row: FigureRow): number | undefined {
  if (row.ratio !== undefined) return row.ratio;
  if (!row.baseline || row.baseline.value === 0) return undefined;
  return row.value / row.baseline.value;
}

/** Whether the row meets its target; undefined when it has none or no ratio. */
export function meetsTarget(row: FigureRow): boolean | undefined {
  const ratio = ratioOf(row);
  if (!row.target || ratio === undefined) return undefined;
  return (row.better ?? "higher") === "lower" ? ratio <= row.target.ratio : ratio >= row.target.ratio;
}

/** This machine: CPU model, cores, memory, Node and OS versions (plus `extra`). */
export function machineInfo(extra: MachineInfo = {}): MachineInfo {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim(),
    cores: cpu.length,
    memoryBytes: totalmem(),
    node: process.version,
    os: `${osType()} ${release()} ${arch()}`,
    ...extra,
  };
}
