import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { parseCpuTimes, readCpuTimes, stealShare } from "../../bench/cpu-steal.js";

// A /proc/stat taken on a contended 2-vCPU VM (user nice system idle iowait irq softirq steal guest guest_nice).
const BEFORE = "cpu  53906 69 23505 525574 747 0 8015 18371 0 0\ncpu0 26000 30 11000 263000 300 0 4000 9000 0 0\nintr 1 2 3\n";
const AFTER = "cpu  53982 69 23739 525826 747 0 8089 18883 0 0\ncpu0 26040 30 11100 263100 300 0 4040 9250 0 0\n";

describe("parseCpuTimes", () => {
  it("reads steal and the total of the first eight columns from the aggregate cpu line", () => {
    expect(parseCpuTimes(BEFORE)).toEqual({ steal: 18371, total: 53906 + 69 + 23505 + 525574 + 747 + 0 + 8015 + 18371 });
  });
  it("returns null for text without an aggregate line or with too few columns", () => {
    expect(parseCpuTimes("cpu0 1 2 3 4 5 6 7 8\n")).toBeNull();
    expect(parseCpuTimes("cpu  1 2 3 4\n")).toBeNull();
    expect(parseCpuTimes("")).toBeNull();
  });
});

describe("stealShare", () => {
  it("is the stolen share of the CPU time between two readings", () => {
    // 76 + 0 + 234 + 252 + 0 + 0 + 74 + 512 = 1148 ticks, 512 of them stolen.
    expect(stealShare(parseCpuTimes(BEFORE), parseCpuTimes(AFTER))).toBeCloseTo(512 / 1148, 6);
  });
  it("is undefined without both readings or when no time passed", () => {
    expect(stealShare(null, parseCpuTimes(AFTER))).toBeUndefined();
    expect(stealShare(parseCpuTimes(BEFORE), parseCpuTimes(BEFORE))).toBeUndefined();
  });
});

describe.runIf(existsSync("/proc/stat"))("readCpuTimes on Linux", () => {
  it("reads this machine's counters, which only grow", async () => {
    const a = readCpuTimes();
    expect(a).not.toBeNull();
    await new Promise((r) => setTimeout(r, 50));
    const b = readCpuTimes()!;
    expect(b.total).toBeGreaterThanOrEqual(a!.total);
    expect(b.steal).toBeGreaterThanOrEqual(a!.steal);
  });
});
