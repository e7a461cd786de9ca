/**
 * Renders `bench/results.md` from a {@link BenchReport}: machine and command
 * line at the top, then one table per bench with figures, baselines, ratios
 * and targets. Pure: text in, text out.
 */
import { meetsTarget, ratioOf, type BenchOutcome, type BenchReport, type FigureRow } from "./figures.js";
import { describeMachine, formatNumber, formatRatio, formatShare, formatTarget, HIGH_STEAL } from "./format.js";

/** Escapes characters that would break a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function rowLine(row: FigureRow): string {
  const ratio = ratioOf(row);
  const met = meetsTarget(row);
  const value = `${formatNumber(row.value)} ${row.unit}`.trim();
  const baseline = row.baseline ? `${formatNumber(row.baseline.value)} ${row.unit} (${row.baseline.name})`.trim() : "";
  const ratioText = ratio === undefined ? "" : `**${formatRatio(ratio)}**`;
  const target = row.target ? `${formatTarget(row)} ${met ? "✅" : "❌"}` : "";
  return `| ${[row.name, value, baseline, ratioText, target].map(cell).join(" | ")} |`;
}

/** Fields the orchestrator reports for the whole run. */
const MACHINE_KEYS = new Set(["cpu", "cores", "memoryBytes", "node", "os"]);

function section(outcome: BenchOutcome): string[] {
  const secs = `${outcome.seconds.toFixed(0)} s`;
  if (!outcome.ok) {
    const code = outcome.exitCode === null ? "no exit code" : `exit code ${outcome.exitCode}`;
    return [`## ${outcome.bench} — not measured`, "", `Failed after ${secs} (${code}):`, "", "```", outcome.error.trim(), "```", ""];
  }
  const { figures } = outcome;
  const lines = [`## ${figures.bench}`, ""];
  if (figures.rows.length === 0) {
    lines.push("The bench printed no figures.", "");
  } else {
    lines.push("| Benchmark | Skein | Baseline | Ratio | Target |", "|---|---:|---:|---:|:---|");
    for (const row of figures.rows) lines.push(rowLine(row));
    lines.push("");
  }
  const notes = figures.rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`);
  const lower = figures.rows.filter((r) => r.better === "lower").map((r) => r.name);
  if (lower.length) notes.push(`- Lower is better for: ${lower.join(", ")}.`);
  // The run's own machine facts are at the top; show only what the bench adds.
  const extra = Object.entries(figures.machine ?? {})
    .filter(([k, v]) => v !== undefined && !MACHINE_KEYS.has(k))
    .map(([k, v]) => `${k}=${String(v)}`);
  if (extra.length) notes.push(`- Reported by the bench: ${extra.join(", ")}.`);
  notes.push(`- Took ${secs}${outcome.exitCode !== 0 ? `, exited with code ${outcome.exitCode}` : ""}${stealText(outcome)}.`);
  lines.push(...notes, "");
  return lines;
}

function stealText(outcome: BenchOutcome): string {
  if (outcome.steal === undefined) return "";
  const pct = formatShare(outcome.steal);
  return outcome.steal >= HIGH_STEAL ? `; CPU steal ${pct} (contended: see the note at the top)` : `; CPU steal ${pct}`;
}

/** Counts the rows with a target and those that meet it, over all benches. */
export function targetSummary(report: BenchReport): { met: number; total: number; failedBenches: number } {
  let met = 0;
  let total = 0;
  let failedBenches = 0;
  for (const o of report.outcomes) {
    if (!o.ok || o.exitCode !== 0) failedBenches++;
    if (!o.ok) continue;
    for (const row of o.figures.rows) {
      const m = meetsTarget(row);
      if (m === undefined) continue;
      total++;
      if (m) met++;
    }
  }
  return { met, total, failedBenches };
}

/** The whole `results.md` text. */
export function renderMarkdown(report: BenchReport): string {
  const { met, total, failedBenches } = targetSummary(report);
  const lines = [
    "# Skein benchmark results",
    "",
    `- **Date:** ${report.date}`,
    `- **Command:** \`${report.command}\``,
    `- **Machine:** ${describeMachine(report.machine) || "unknown"}`,
    `- **Targets met:** ${met} of ${total}` +
      (failedBenches ? ` (${failedBenches} bench${failedBenches === 1 ? "" : "es"} failed; see below)` : ""),
    "",
    "Every ratio compares Skein with a baseline measured in the same run on the same machine. " +
      "The chart is in [results.svg](results.svg).",
    "",
  ];
  const contended = report.outcomes.filter((o) => (o.steal ?? 0) >= HIGH_STEAL).map((o) => o.bench);
  if (contended.length) {
    lines.push(
      `**Contended run:** the hypervisor took ${formatShare(HIGH_STEAL)} or more of the CPU time (steal) while ${contended.join(", ")} ran. ` +
        "Stolen time falls unevenly on the server, the baseline and the load generator, so these ratios are noisier than usual.",
      "",
    );
  }
  for (const outcome of report.outcomes) lines.push(...section(outcome));
  return lines.join("\n");
}
