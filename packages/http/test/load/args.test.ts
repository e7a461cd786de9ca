import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseArgs, UsageError } from "../../src/load/args.js";
import { parseDuration, resolveLoadOptions } from "../../src/load/index.js";

describe("skein-load arguments", () => {
  it("parses the documented command line", () => {
    const dir = mkdtempSync(join(tmpdir(), "skein-load-"));
    writeFileSync(join(dir, "body.json"), '{"a":1}');
    const got = parseArgs(["http://127.0.0.1:8080/x", "-c", "256", "-p", "16", "-d", "10s", "-m", "POST", "-b", `@${join(dir, "body.json")}`,
      "-H", "content-type: application/json", "-H", "x-a:  b ", "--rate=5000", "--warmup", "2s", "--expect-body", "ok", "--expect-status", "2xx", "--json", "-q"]);
    expect(got.kind).toBe("run");
    if (got.kind !== "run") return;
    expect({ ...got.options, body: got.options.body?.toString() }).toEqual({
      url: "http://127.0.0.1:8080/x", connections: 256, pipeline: 16, durationMs: 10_000, method: "POST", body: '{"a":1}',
      headers: [["content-type", "application/json"], ["x-a", "b"]], rate: 5000, warmupMs: 2000, expectBody: "ok",
      expectStatus: { min: 200, max: 299 },
    });
    expect([got.json, got.quiet]).toEqual([true, true]);
  });

  it("explains what is wrong", () => {
    expect(() => parseArgs([])).toThrow(UsageError);
    expect(() => parseArgs(["http://a/", "-c"])).toThrow(/needs a value/);
    expect(() => parseArgs(["http://a/", "-c", "many"])).toThrow(/whole number/);
    expect(() => parseArgs(["http://a/", "--frobnicate"])).toThrow(/unknown option/);
    expect(() => parseArgs(["http://a/", "-H", "nocolon"])).toThrow(/name: value/);
    expect(() => parseArgs(["http://a/", "-b", "@/no/such/file"])).toThrow(UsageError);
    expect(() => parseArgs(["http://a/", "--expect-body", "@/no/such/file"])).toThrow(/--expect-body @\/no\/such\/file: cannot read "\/no\/such\/file" \(ENOENT\)/);
    expect(parseArgs(["--help"])).toEqual({ kind: "help" });
  });

  it("reads durations with units", () => {
    expect([parseDuration("10s"), parseDuration("250ms"), parseDuration("2m"), parseDuration("1.5"), parseDuration("1h")]).toEqual([10_000, 250, 120_000, 1500, 3_600_000]);
    expect(() => parseDuration("10 parsecs")).toThrow(RangeError);
  });

  it("defaults to a 10 s run unless a count is given", () => {
    expect(resolveLoadOptions({ url: "http://a/" }).durationMs).toBe(10_000);
    expect(resolveLoadOptions({ url: "http://a/", count: 5 }).durationMs).toBe(Infinity);
    expect(() => resolveLoadOptions({ url: "http://a/", connections: 0 })).toThrow(RangeError);
  });
});
