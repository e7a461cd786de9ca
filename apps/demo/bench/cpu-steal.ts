/**
 * CPU steal: time the hypervisor gave to other guests while a vCPU of this
 * machine wanted to run, from the `steal` column of Linux's `/proc/stat`.
 * On a shared VM it is the figure that says whether a run was contended:
 * with half the CPU time stolen, servers and load generators lose it
 * unevenly, and ratios between them stop being comparable.
 */
import { readFileSync } from "node:fs";

/** Cumulative CPU time of all cores, in clock ticks. */
export interface CpuTimes {
  steal: number;
  total: number;
}

/**
 * Parses the aggregate `cpu` line of `/proc/stat` (user nice system idle
 * iowait irq softirq steal guest guest_nice). Guest time is already counted
 * in user and nice, so it is left out of the total. Returns null when the
 * text has no such line or too few columns to include steal.
 */
export function parseCpuTimes(procStat: string): CpuTimes | null {
  const line = procStat.split("\n").find((l) => /^cpu\s/.test(l));
  if (line === undefined) return null;
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 8 || fields.some((n) => !Number.isFinite(n))) return null;
  return { steal: fields[7]!, total: fields.reduce((a, b) => a + b, 0) };
}

/** This machine's CPU times now, or null where `/proc/stat` is not available (not Linux). */
export function readCpuTimes(): CpuTimes | null {
  try {
    return parseCpuTimes(readFileSync("/proc/stat", "utf8"));
  } catch {
    return null;
  }
}

/** The share (0–1) of CPU time stolen between two readings; undefined when either is missing or no time passed. */
export function stealShare(before: CpuTimes | null, after: CpuTimes | null): number | undefined {
  if (before === null || after === null) return undefined;
  const total = after.total - before.total;
  return total > 0 ? (after.steal - before.steal) / total : undefined;
}
