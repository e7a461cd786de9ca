/**
 * Number and text formatting shared by the Markdown and SVG renderers.
 */
import type { FigureRow, MachineInfo } from "./figures.js";

/** `1234567.8` → `"1,234,568"`; small values keep up to 3 significant decimals. */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 100) return Math.round(n).toLocaleString("en-US");
  if (abs >= 10) return n.toFixed(1).replace(/\.0$/, "");
  if (abs === 0) return "0";
  return Number(n.toPrecision(3)).toString();
}

/** `12.634` → `"12.6x"`, `0.5512` → `"0.55x"`. */
export function formatRatio(r: number): string {
  if (r >= 10) return `${Number(r.toFixed(1))}x`;
  return `${Number(r.toFixed(2))}x`;
}

/** `"≥ 12x node:http"` or `"≤ 0.5x node:http"`. */
export function formatTarget(row: FigureRow): string {
  if (!row.target) return "";
  const op = (row.better ?? "higher") === "lower" ? "≤" : "≥";
  return `${op} ${formatRatio(row.target.ratio)} ${row.target.of}`;
}

/** Bytes in binary units: `8_331_710_464` → `"7.8 GiB"`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** One line describing the machine: `"AMD EPYC 7B13, 2 cores, 7.8 GiB RAM, linux x64, Node v20.20.2"`. */
export function describeMachine(m: MachineInfo): string {
  const parts: string[] = [];
  if (m.cpu) parts.push(String(m.cpu));
  if (m.cores !== undefined) parts.push(`${m.cores} core${m.cores === 1 ? "" : "s"}`);
  if (m.memoryBytes !== undefined) parts.push(`${formatBytes(m.memoryBytes)} RAM`);
  if (m.os) parts.push(String(m.os));
  if (m.node) parts.push(`Node ${m.node}`);
  return parts.join(", ");
}

/** A share (0–1) as a whole percentage: `0.51` → `"51%"`. */
export function formatShare(share: number): string {
  return `${(share * 100).toFixed(0)}%`;
}

/** Above this share of stolen CPU time (see cpu-steal.ts) a bench's run is flagged as contended. */
export const HIGH_STEAL = 0.1;

/** The highest CPU steal any bench of the run saw, or undefined when none was measured. */
export function peakSteal(outcomes: readonly { steal?: number }[]): number | undefined {
  let peak: number | undefined;
  for (const o of outcomes) if (o.steal !== undefined && (peak === undefined || o.steal > peak)) peak = o.steal;
  return peak;
}
