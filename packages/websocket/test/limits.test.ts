/** Limits: defaults, overrides, validation, and what they become in `ws`. */
import { describe, expect, it } from "vitest";
import { CLIENT_DEFAULT_LIMITS, DEFAULT_WS_LIMITS, resolveLimits } from "@skein/websocket";

describe("resolveLimits", () => {
  it("starts from frozen defaults suited to a server behind a load balancer", () => {
    expect(Object.isFrozen(DEFAULT_WS_LIMITS)).toBe(true);
    expect(DEFAULT_WS_LIMITS.pingIntervalMs).toBeLessThan(30_000);
    expect(DEFAULT_WS_LIMITS.pongTimeoutMs).toBeGreaterThan(0);
    expect(DEFAULT_WS_LIMITS.maxPayloadBytes).toBe(1 << 20);
    expect(CLIENT_DEFAULT_LIMITS.pingIntervalMs).toBe(0);
  });

  it("applies overrides and ignores fields that are not limits", () => {
    const limits = resolveLimits({ pingIntervalMs: 0, maxQueuedMessages: 3, origins: ["x"] } as never);
    expect(limits.pingIntervalMs).toBe(0);
    expect(limits.maxQueuedMessages).toBe(3);
    expect(limits.closeTimeoutMs).toBe(DEFAULT_WS_LIMITS.closeTimeoutMs);
    expect("origins" in limits).toBe(false);
  });

  it.each([-1, 1.5, NaN, Infinity, "10" as unknown as number])("rejects %s with a RangeError naming the field", (bad) => {
    expect(() => resolveLimits({ idleTimeoutMs: bad })).toThrow(/idleTimeoutMs/);
  });
});
