/**
 * The JSON shape every Skein benchmark prints with `--json`, and its checks.
 *
 * Each bench (`bench:core`, `bench:http`, `bench:ws`, `bench:load`) prints
 * exactly one JSON object of this shape on stdout (progress goes to stderr).
 * `pnpm bench` collects them and renders `bench/results.md` and
 * `bench/results.svg` from them.
 *
 * @example
 * ```ts
 * const figures: BenchFigures = {
 *   bench: "http",
 *   rows: [{
 *     name: "plaintext, pipelined 16",
 *     value: 1_020_000, unit: "req/s",
 *     baseline: { name: "node:http", value: 81_000 },
 *     target: { ratio: 12, of: "node:http" },
 *   }],
 * };
 * console.log(JSON.stringify(figures));
 * ```
 */

import type { BenchFigures, FigureRow, MachineInfo } from "../../../scripts/bench-figures.js";

export { meetsTarget, ratioOf, type Better, type BenchFigures, type FigureRow, type MachineInfo } from "../../../scripts/bench-figures.js";

/** The outcome of one bench as run by the orchestrator. */
export type BenchOutcome = (
  | { bench: string; ok: true; figures: BenchFigures; seconds: number; exitCode: number }
  | { bench: string; ok: false; error: string; seconds: number; exitCode: number | null }
) & {
  /** Share (0–1) of the machine's CPU time the hypervisor stole while the bench ran (Linux VMs); see cpu-steal.ts. */
  steal?: number;
};

/** Everything needed to render the results files. */
export interface BenchReport {
  machine: MachineInfo;
  /** ISO 8601 date of the run. */
  date: string;
  /** The command line that produced the report. */
  command: string;
  outcomes: BenchOutcome[];
}

/** Thrown by {@link parseFigures} with the path of the first bad field. */
export class FiguresError extends Error {
  readonly code = "DEMO_ERR_BAD_FIGURES";
  constructor(readonly path: string, what: string) {
    super(`${path}: ${what}`);
    this.name = "FiguresError";
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function checkRow(raw: unknown, path: string): FigureRow {
  if (!isObject(raw)) throw new FiguresError(path, "expected an object");
  if (typeof raw.name !== "string" || raw.name === "") throw new FiguresError(`${path}.name`, "expected a non-empty string");
  if (!isFiniteNumber(raw.value)) throw new FiguresError(`${path}.value`, "expected a finite number");
  if (typeof raw.unit !== "string") throw new FiguresError(`${path}.unit`, "expected a string");
  if (raw.better !== undefined && raw.better !== "higher" && raw.better !== "lower") {
    throw new FiguresError(`${path}.better`, 'expected "higher" or "lower"');
  }
  if (raw.baseline !== undefined) {
    const b = raw.baseline;
    if (!isObject(b) || typeof b.name !== "string" || !isFiniteNumber(b.value)) {
      throw new FiguresError(`${path}.baseline`, "expected { name: string, value: number }");
    }
  }
  if (raw.ratio !== undefined && !isFiniteNumber(raw.ratio)) throw new FiguresError(`${path}.ratio`, "expected a finite number");
  if (raw.target !== undefined) {
    const t = raw.target;
    if (!isObject(t) || !isFiniteNumber(t.ratio) || t.ratio <= 0 || typeof t.of !== "string") {
      throw new FiguresError(`${path}.target`, "expected { ratio: positive number, of: string }");
    }
  }
  if (raw.note !== undefined && typeof raw.note !== "string") throw new FiguresError(`${path}.note`, "expected a string");
  return raw as unknown as FigureRow;
}

/** Validates a parsed `--json` object; throws {@link FiguresError} naming the bad field. */
export function checkFigures(raw: unknown): BenchFigures {
  if (!isObject(raw)) throw new FiguresError("$", "expected a JSON object");
  if (typeof raw.bench !== "string" || raw.bench === "") throw new FiguresError("$.bench", "expected a non-empty string");
  if (!Array.isArray(raw.rows)) throw new FiguresError("$.rows", "expected an array");
  raw.rows.forEach((row, i) => checkRow(row, `$.rows[${i}]`));
  if (raw.machine !== undefined && !isObject(raw.machine)) throw new FiguresError("$.machine", "expected an object");
  return raw as unknown as BenchFigures;
}

/**
 * Finds the figures in a bench's stdout: the whole output if it is one JSON
 * object, otherwise the last line that is one (a bench may print a table
 * before it). Throws {@link FiguresError} when there is none.
 */
export function parseFigures(stdout: string): BenchFigures {
  const tryParse = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  };
  const whole = tryParse(stdout.trim());
  if (isObject(whole)) return checkFigures(whole);
  const lines = stdout.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("{"));
  for (let i = lines.length - 1; i >= 0; i--) {
    const parsed = tryParse(lines[i]!);
    if (isObject(parsed)) return checkFigures(parsed);
  }
  throw new FiguresError("stdout", "no JSON object found");
}
