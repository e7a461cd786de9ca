import { describe, expect, it } from "vitest";
import { Histogram, HISTOGRAM_MAX_VALUE } from "../../src/load/index.js";

describe("Histogram", () => {
  it("is exact below 2048", () => {
    const h = new Histogram();
    for (let v = 1; v <= 1000; v++) h.record(v);
    expect([h.valueAtPercentile(50), h.valueAtPercentile(90), h.valueAtPercentile(99), h.valueAtPercentile(99.9), h.valueAtPercentile(100)]).toEqual([500, 900, 990, 999, 1000]);
    expect([h.min, h.max, h.total, h.mean]).toEqual([1, 1000, 1000, 500.5]);
  });

  it("keeps three significant digits across the range", () => {
    for (const v of [2049, 12_345, 999_999, 7_654_321, 123_456_789, 4_000_000_000]) {
      const h = new Histogram();
      h.record(1);
      h.record(v);
      h.record(HISTOGRAM_MAX_VALUE);
      const got = h.valueAtPercentile(66);
      expect(got).toBeGreaterThanOrEqual(v);
      expect((got - v) / v).toBeLessThan(0.001);
    }
  });

  it("reports percentiles of a skewed distribution", () => {
    const h = new Histogram();
    for (let i = 0; i < 990; i++) h.record(100);
    for (let i = 0; i < 9; i++) h.record(10_000);
    h.record(1_000_000);
    expect(h.valueAtPercentile(50)).toBe(100);
    expect(h.valueAtPercentile(99)).toBe(100);
    expect(h.valueAtPercentile(99.5)).toBeGreaterThanOrEqual(10_000);
    expect(h.valueAtPercentile(99.5)).toBeLessThan(10_010);
    expect(h.valueAtPercentile(100)).toBe(1_000_000);
  });

  it("clamps values beyond its range and counts them", () => {
    const h = new Histogram();
    h.record(1e12);
    h.record(-5);
    expect([h.clamped, h.max, h.min, h.total]).toEqual([1, HISTOGRAM_MAX_VALUE, 0, 2]);
  });

  it("records into its preallocated array, and reset keeps it", () => {
    const h = new Histogram();
    const counts = h.counts;
    for (let i = 0; i < 10_000; i++) h.record(i * 997);
    h.reset();
    expect(h.counts).toBe(counts);
    expect([h.total, h.valueAtPercentile(50), counts.every((c) => c === 0)]).toEqual([0, 0, true]);
  });

  it("adds another histogram", () => {
    const a = new Histogram();
    const b = new Histogram();
    a.record(10);
    b.record(30);
    b.record(20);
    a.add(b);
    expect([a.total, a.min, a.max, a.valueAtPercentile(50), a.mean]).toEqual([3, 10, 30, 20, 20]);
  });
});
