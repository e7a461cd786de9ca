import { describe, expect, it } from "vitest";
import { FiguresError, meetsTarget, parseFigures, ratioOf } from "../../bench/figures.js";

describe("ratioOf", () => {
  it("divides the value by the baseline's", () => {
    expect(ratioOf({ name: "a", value: 30, unit: "x", baseline: { name: "b", value: 10 } })).toBe(3);
  });
  it("prefers the ratio the bench reported", () => {
    expect(ratioOf({ name: "a", value: 30, unit: "x", baseline: { name: "b", value: 10 }, ratio: 2.5 })).toBe(2.5);
  });
  it("is undefined without a baseline or with a zero baseline", () => {
    expect(ratioOf({ name: "a", value: 30, unit: "x" })).toBeUndefined();
    expect(ratioOf({ name: "a", value: 30, unit: "x", baseline: { name: "b", value: 0 } })).toBeUndefined();
  });
});

describe("meetsTarget", () => {
  const row = (value: number, better?: "higher" | "lower") => ({
    name: "a", value, unit: "x", better, baseline: { name: "b", value: 100 }, target: { ratio: 0.5, of: "b" },
  });
  it("needs at least the target ratio when higher is better", () => {
    expect(meetsTarget(row(50))).toBe(true);
    expect(meetsTarget(row(49))).toBe(false);
  });
  it("needs at most the target ratio when lower is better", () => {
    expect(meetsTarget(row(50, "lower"))).toBe(true);
    expect(meetsTarget(row(51, "lower"))).toBe(false);
  });
  it("is undefined without a target", () => {
    expect(meetsTarget({ name: "a", value: 1, unit: "x", baseline: { name: "b", value: 1 } })).toBeUndefined();
  });
});

describe("parseFigures", () => {
  const good = { bench: "http", rows: [{ name: "p", value: 1, unit: "req/s" }] };
  it("reads stdout that is one JSON object", () => {
    expect(parseFigures(JSON.stringify(good, null, 2))).toEqual(good);
  });
  it("reads the last JSON line after a printed table", () => {
    expect(parseFigures(`| table |\n{"not": "figures"}\n${JSON.stringify(good)}\n`)).toEqual(good);
  });
  it("names the first bad field", () => {
    const bad = { bench: "http", rows: [good.rows[0], { name: "q", value: "fast", unit: "req/s" }] };
    expect(() => parseFigures(JSON.stringify(bad))).toThrow(FiguresError);
    try {
      parseFigures(JSON.stringify(bad));
    } catch (e) {
      expect((e as FiguresError).path).toBe("$.rows[1].value");
      expect((e as FiguresError).code).toBe("DEMO_ERR_BAD_FIGURES");
    }
  });
  it("rejects a target without a positive ratio", () => {
    const bad = { bench: "ws", rows: [{ name: "e", value: 1, unit: "msg/s", target: { ratio: 0, of: "ws" } }] };
    expect(() => parseFigures(JSON.stringify(bad))).toThrow(/rows\[0\]\.target/);
  });
  it("throws when stdout holds no JSON object", () => {
    expect(() => parseFigures("done in 3s\n")).toThrow(FiguresError);
  });
});
