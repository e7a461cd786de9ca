/**
 * The result of a load run, and its text rendering.
 *
 * @module
 */
import { ERROR_KINDS, type ErrorKind, type LoadStats } from "./stats.js";

/** Latency figures, in milliseconds. */
export interface LatencySummary {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** What `load` returns and `skein-load --json` prints. */
export interface LoadReport {
  url: string;
  connections: number;
  pipeline: number;
  /** Most connections open at once. */
  peakConnected: number;
  /** Measured time, in ms. */
  durationMs: number;
  /** Successful responses (every check passed). */
  requests: number;
  /** Successful responses per second. */
  requestsPerSec: number;
  /** Responses parsed (including those that failed a check). */
  responses: number;
  /** Requests written. */
  sent: number;
  /** Bytes received. */
  bytesRead: number;
  bytesPerSec: number;
  /** Latency of successful responses. */
  latencyMs: LatencySummary;
  /** Responses per status code. */
  statusCounts: Record<string, number>;
  /** Errors per kind (every kind present, 0 when none). */
  errors: Record<ErrorKind, number>;
  /** Sum of `errors`. */
  errorTotal: number;
  /** Peak resident memory of the process, in bytes. */
  maxRssBytes: number;
  /** Why a count-mode run ended before its count was answered (e.g. no answer for 10 s), or null. */
  stoppedEarly: string | null;
}

/** Builds the report from the measured counters. */
export function buildReport(stats: LoadStats, info: { url: string; connections: number; pipeline: number; peakConnected: number; durationMs: number; stoppedEarly: string | null }): LoadReport {
  const seconds = info.durationMs / 1000;
  const h = stats.latency;
  const ms = (us: number) => Math.round(us) / 1000;
  const statusCounts: Record<string, number> = {};
  for (let s = 0; s < stats.statusCounts.length; s++) if (stats.statusCounts[s]! > 0) statusCounts[String(s)] = stats.statusCounts[s]!;
  const errors = {} as Record<ErrorKind, number>;
  ERROR_KINDS.forEach((kind, i) => (errors[kind] = stats.errors[i]!));
  return {
    ...info,
    requests: stats.ok,
    requestsPerSec: seconds > 0 ? stats.ok / seconds : 0,
    responses: stats.responses,
    sent: stats.sent,
    bytesRead: stats.bytesRead,
    bytesPerSec: seconds > 0 ? stats.bytesRead / seconds : 0,
    latencyMs: {
      min: h.total === 0 ? 0 : ms(h.min),
      mean: ms(h.mean),
      p50: ms(h.valueAtPercentile(50)),
      p90: ms(h.valueAtPercentile(90)),
      p99: ms(h.valueAtPercentile(99)),
      p999: ms(h.valueAtPercentile(99.9)),
      max: ms(h.max),
    },
    statusCounts,
    errors,
    errorTotal: stats.errorTotal,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  };
}

const num = (n: number) => Math.round(n).toLocaleString("en-US");

/** Human units for bytes. */
export function formatBytes(n: number): string {
  const units = ["B", "KB", "MB", "GB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 2)} ${units[i]}`;
}

/**
 * The report as text, for people.
 *
 * @example
 * console.log(formatReport(report));
 */
export function formatReport(r: LoadReport): string {
  const l = r.latencyMs;
  const lines = [
    `${r.url}: ${r.connections} connections (${r.peakConnected} open at most), pipeline ${r.pipeline}, ${(r.durationMs / 1000).toFixed(2)} s`,
    `  requests   ${num(r.requests)} ok of ${num(r.responses)} responses (${num(r.sent)} sent)`,
    `  req/s      ${num(r.requestsPerSec)}`,
    `  bytes/s    ${formatBytes(r.bytesPerSec)}/s (${formatBytes(r.bytesRead)} read)`,
    `  latency    p50 ${l.p50} ms  p90 ${l.p90} ms  p99 ${l.p99} ms  p99.9 ${l.p999} ms  (min ${l.min}, mean ${l.mean.toFixed(3)}, max ${l.max})`,
    `  statuses   ${Object.entries(r.statusCounts).map(([s, n]) => `${s}: ${num(n)}`).join("  ") || "none"}`,
    `  errors     ${r.errorTotal === 0 ? "none" : ERROR_KINDS.filter((k) => r.errors[k] > 0).map((k) => `${k}: ${num(r.errors[k])}`).join("  ")}`,
  ];
  if (r.stoppedEarly !== null) lines.push(`  stopped    early: ${r.stoppedEarly}`);
  return lines.join("\n");
}
