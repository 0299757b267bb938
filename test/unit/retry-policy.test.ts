import { describe, expect, it } from "vitest";
import { decideOnStatus } from "../../src/delivery/attempt-outcome.js";
import { backoffDelayMs, defaultRetryPolicy, parseRetryAfterMs, retryDelayMs } from "../../src/delivery/retry-policy.js";

describe("retry policy", () => {
  it("doubles from 1 s and stops growing at 10 min", () => {
    const mid = () => 0.5;
    expect(backoffDelayMs(1, defaultRetryPolicy, mid)).toBe(1_000);
    expect(backoffDelayMs(2, defaultRetryPolicy, mid)).toBe(2_000);
    expect(backoffDelayMs(3, defaultRetryPolicy, mid)).toBe(4_000);
    expect(backoffDelayMs(30, defaultRetryPolicy, mid)).toBe(600_000);
  });

  it("spreads delays with jitter within +-20 %", () => {
    expect(backoffDelayMs(3, defaultRetryPolicy, () => 0)).toBe(3_200);
    expect(backoffDelayMs(3, defaultRetryPolicy, () => 0.999999)).toBe(4_800);
    expect(backoffDelayMs(40, defaultRetryPolicy, () => 0.999999)).toBe(600_000);
  });

  it("reads Retry-After in seconds and as an HTTP-date", () => {
    const now = Date.parse("2026-11-28T12:00:00Z");
    expect(parseRetryAfterMs("7", now)).toBe(7_000);
    expect(parseRetryAfterMs("Sat, 28 Nov 2026 12:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfterMs("Sat, 28 Nov 2026 11:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfterMs("soon", now)).toBeUndefined();
    expect(parseRetryAfterMs(undefined, now)).toBeUndefined();
  });

  it("honours Retry-After over backoff, capped at one hour", () => {
    expect(retryDelayMs(1, "120", 0, defaultRetryPolicy, () => 0.5)).toBe(120_000);
    expect(retryDelayMs(1, "999999", 0, defaultRetryPolicy, () => 0.5)).toBe(3_600_000);
    expect(retryDelayMs(2, "nonsense", 0, defaultRetryPolicy, () => 0.5)).toBe(2_000);
  });

  it("never retries sooner than 1 s on Retry-After: 0 or a date in the past", () => {
    const now = Date.parse("2026-11-28T12:00:00Z");
    expect(retryDelayMs(1, "0", now, defaultRetryPolicy, () => 0.5)).toBe(1_000);
    expect(retryDelayMs(1, "Sat, 28 Nov 2026 11:00:00 GMT", now, defaultRetryPolicy, () => 0.5)).toBe(1_000);
  });
});

describe("attempt outcome", () => {
  it.each([
    [200, "delivered"], [202, "delivered"], [204, "delivered"],
    [400, "split"], [422, "split"], [413, "halve"],
    [401, "failing"], [403, "failing"], [404, "failing"],
    [500, "retry"], [502, "retry"], [503, "retry"], [408, "retry"], [429, "retry"], [418, "retry"], [302, "retry"], [100, "retry"],
  ] as const)("HTTP %i -> %s", (status, decision) => {
    expect(decideOnStatus(status)).toBe(decision);
  });
});
