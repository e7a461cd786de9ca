import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, resolveLimits } from "../src/limits.js";

describe("limits", () => {
  it("has a default for every limit, 16 KiB heads among them", () => {
    expect(DEFAULT_LIMITS.maxHeadBytes).toBe(16 * 1024);
    for (const value of Object.values(DEFAULT_LIMITS)) expect(Number.isSafeInteger(value)).toBe(true);
    expect(Object.isFrozen(DEFAULT_LIMITS)).toBe(true);
  });
  it("merges overrides, including 0", () => {
    const limits = resolveLimits({ headersTimeoutMs: 0, maxBodyBytes: 10 });
    expect(limits).toEqual({ ...DEFAULT_LIMITS, headersTimeoutMs: 0, maxBodyBytes: 10 });
  });
  it("rejects negative, fractional and unknown limits", () => {
    expect(() => resolveLimits({ maxHeadBytes: -1 })).toThrow(RangeError);
    expect(() => resolveLimits({ keepAliveTimeoutMs: 1.5 })).toThrow(RangeError);
    expect(() => resolveLimits({ maxHeadByte: 1 } as never)).toThrow(RangeError);
  });
});
