/**
 * Renders `bench/results.svg`: a horizontal bar chart of every ratio against
 * its baseline, on a log scale (so 0.5x and 2x sit equally far from 1x), with
 * the 1.0x line drawn, each target marked, and bars coloured by whether they
 * meet it. Pure: report in, SVG text out.
 */
import { meetsTarget, ratioOf, type BenchReport, type FigureRow } from "./figures.js";
import { describeMachine, formatRatio, formatShare, formatTarget, HIGH_STEAL, peakSteal } from "./format.js";

const WIDTH = 1060;
const LABEL_X = 16; // left edge of the row labels
const RATIO_X = 376; // right edge of the ratio column
const PLOT_LEFT = 400;
const PLOT_RIGHT = 800;
const TARGET_X = 822; // the target column
const ROW_H = 36;
const BAR_H = 18;
/** Closest two axis labels may be, in px (ticks are thinned to keep them apart). */
const MIN_TICK_GAP = 40;
const GROUP_H = 34;
const TOP = 92;

const COLOR = { met: "#2b8a3e", missed: "#c92a2a", none: "#4263eb", grid: "#dee2e6", text: "#212529", muted: "#868e96" };

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** The power-of-two domain [lo, hi] that holds 1, every ratio and every target with some margin. */
export function ratioDomain(values: number[]): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.min(0.5, ...finite.map((v) => v / 1.15));
  const hi = Math.max(2, ...finite.map((v) => v * 1.15));
  return [2 ** Math.floor(Math.log2(lo)), 2 ** Math.ceil(Math.log2(hi))];
}

interface Item {
  kind: "group" | "row" | "failed";
  label: string;
  row?: FigureRow;
}

function items(report: BenchReport): Item[] {
  const out: Item[] = [];
  for (const o of report.outcomes) {
    if (!o.ok) {
      out.push({ kind: "group", label: o.bench });
      out.push({ kind: "failed", label: "not measured (the bench failed; see results.md)" });
      continue;
    }
    const rows = o.figures.rows.filter((r) => ratioOf(r) !== undefined);
    out.push({ kind: "group", label: o.figures.bench });
    if (rows.length === 0) out.push({ kind: "failed", label: "no ratios reported" });
    for (const row of rows) out.push({ kind: "row", label: row.name, row });
  }
  return out;
}

/** Shortens a label to fit the label column. */
function clip(text: string, max = 40): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The whole `results.svg` text. */
export function renderSvg(report: BenchReport): string {
  const list = items(report);
  const ratios = list.flatMap((i) => (i.row ? [ratioOf(i.row)!, ...(i.row.target ? [i.row.target.ratio] : [])] : []));
  const [lo, hi] = ratioDomain(ratios);
  const x = (r: number) => PLOT_LEFT + ((Math.log2(r) - Math.log2(lo)) / (Math.log2(hi) - Math.log2(lo))) * (PLOT_RIGHT - PLOT_LEFT);
  const clampX = (r: number) => Math.min(PLOT_RIGHT, Math.max(PLOT_LEFT, x(r)));

  let y = TOP;
  const body: string[] = [];
  for (const item of list) {
    if (item.kind === "group") {
      y += 8;
      body.push(`<text x="${LABEL_X}" y="${y + 18}" font-weight="700" font-size="15">${escapeXml(item.label)}</text>`);
      y += GROUP_H - 8;
      continue;
    }
    if (item.kind === "failed") {
      body.push(`<text x="${LABEL_X + 12}" y="${y + 19}" fill="${COLOR.missed}" font-style="italic">${escapeXml(item.label)}</text>`);
      y += ROW_H;
      continue;
    }
    const row = item.row!;
    const ratio = ratioOf(row)!;
    const met = meetsTarget(row);
    const color = met === undefined ? COLOR.none : met ? COLOR.met : COLOR.missed;
    const lower = row.better === "lower";
    const x1 = x(1);
    const x2 = clampX(ratio);
    const barX = Math.min(x1, x2);
    const barW = Math.max(1, Math.abs(x2 - x1));
    const mid = y + ROW_H / 2;
    const title = `${row.name}: ${formatRatio(ratio)}${row.baseline ? ` of ${row.baseline.name}` : ""}${row.target ? ` (target ${formatTarget(row)})` : ""}`;
    body.push(`<g><title>${escapeXml(title)}</title>`);
    // Two lines: the figure, then what it is compared with (rows of one figure differ only there).
    const against = [row.baseline ? `vs ${row.baseline.name}` : "", lower ? "lower is better" : ""].filter(Boolean).join(" · ");
    body.push(`<text x="${LABEL_X + 12}" y="${mid - 2}">${escapeXml(clip(item.label))}</text>`);
    if (against !== "") body.push(`<text x="${LABEL_X + 12}" y="${mid + 12}" font-size="11" fill="${COLOR.muted}">${escapeXml(clip(against, 48))}</text>`);
    body.push(`<rect x="${barX.toFixed(1)}" y="${y + (ROW_H - BAR_H) / 2}" width="${barW.toFixed(1)}" height="${BAR_H}" rx="3" fill="${color}"/>`);
    body.push(`<text x="${RATIO_X}" y="${mid + 5}" text-anchor="end" font-weight="700" fill="${color}">${formatRatio(ratio)}</text>`);
    if (row.target) {
      const tx = clampX(row.target.ratio).toFixed(1);
      body.push(`<line x1="${tx}" x2="${tx}" y1="${y + 5}" y2="${y + ROW_H - 5}" stroke="${COLOR.text}" stroke-width="2.5"/>`);
      body.push(`<text x="${TARGET_X}" y="${mid + 5}" fill="${color}">${met ? "✓" : "✗"} target ${escapeXml(formatTarget(row))}</text>`);
    }
    body.push("</g>");
    y += ROW_H;
  }
  const plotBottom = y + 6;

  const grid: string[] = [];
  // Every power of two that has room for its label, always including 1x.
  let step = 2;
  while (x(step) - x(1) < MIN_TICK_GAP) step *= 2;
  const first = step ** Math.ceil(Math.log(lo) / Math.log(step) - 1e-9);
  for (let t = first; t <= hi * 1.0001; t *= step) {
    const gx = x(t).toFixed(1);
    const one = Math.abs(t - 1) < 1e-9;
    grid.push(`<line x1="${gx}" x2="${gx}" y1="${TOP - 6}" y2="${plotBottom}" stroke="${one ? COLOR.text : COLOR.grid}" stroke-width="${one ? 2 : 1}"${one ? "" : ' stroke-dasharray="3 3"'}/>`);
    grid.push(`<text x="${gx}" y="${TOP - 12}" text-anchor="middle" fill="${one ? COLOR.text : COLOR.muted}"${one ? ' font-weight="700"' : ""}>${formatRatio(t)}</text>`);
  }

  const machine = describeMachine(report.machine);
  const steal = peakSteal(report.outcomes);
  const contended = steal !== undefined && steal >= HIGH_STEAL
    ? `Contended run: the hypervisor took up to ${formatShare(steal)} of the CPU time (steal) during a bench, so these ratios are noisier than usual.`
    : "";
  const height = plotBottom + (contended ? 70 : 46);
  const legendY = plotBottom + 28;
  const legend = [
    [COLOR.met, "meets target"],
    [COLOR.missed, "misses target"],
    [COLOR.none, "no target"],
  ]
    .map(([c, label], i) => {
      const lx = LABEL_X + i * 150;
      return `<rect x="${lx}" y="${legendY - 11}" width="14" height="14" rx="2" fill="${c}"/><text x="${lx + 20}" y="${legendY}">${label}</text>`;
    })
    .join("");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="13" fill="${COLOR.text}">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${LABEL_X}" y="28" font-size="18" font-weight="700">Skein vs. baselines measured in the same run (ratio, log scale)</text>`,
    `<text x="${LABEL_X}" y="50" fill="${COLOR.muted}">${escapeXml([report.date, machine].filter(Boolean).join(" · "))}</text>`,
    ...grid,
    ...body,
    legend,
    `<line x1="${LABEL_X + 470}" x2="${LABEL_X + 470}" y1="${legendY - 13}" y2="${legendY + 3}" stroke="${COLOR.text}" stroke-width="2.5"/>`,
    `<text x="${LABEL_X + 480}" y="${legendY}">target</text>`,
    `<text x="${LABEL_X + 560}" y="${legendY}" fill="${COLOR.muted}">1x = same as the baseline</text>`,
    ...(contended ? [`<text x="${LABEL_X}" y="${legendY + 24}" fill="${COLOR.missed}">${escapeXml(contended)}</text>`] : []),
    `</svg>`,
    "",
  ].join("\n");
}
