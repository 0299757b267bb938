/**
 * Retry policy as data plus pure functions; the clock and randomness are passed in.
 * SPEC section 5: exponential backoff with jitter, 1 s doubling to 10 min, honouring
 * `Retry-After` (seconds or HTTP-date), at least 1 s (`0` or a past date never means "now"),
 * capped at 1 h.
 */
export interface RetryPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  /** 0.2 -> the delay is spread over +-20 %. */
  readonly jitterRatio: number;
  readonly maxRetryAfterMs: number;
  /** A Retry-After shorter than this (0, a past date) is raised to it. @defaultValue 1_000 */
  readonly minRetryAfterMs?: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  baseDelayMs: 1_000,
  maxDelayMs: 600_000,
  multiplier: 2,
  jitterRatio: 0.2,
  maxRetryAfterMs: 3_600_000,
};

/** Delay before retry number `retry` (1 for the first retry). */
export function backoffDelayMs(retry: number, policy: RetryPolicy = defaultRetryPolicy, random: () => number = Math.random): number {
  const raw = Math.min(policy.baseDelayMs * policy.multiplier ** Math.max(0, retry - 1), policy.maxDelayMs);
  const jittered = raw * (1 - policy.jitterRatio + 2 * policy.jitterRatio * random());
  return Math.round(Math.min(jittered, policy.maxDelayMs));
}

/** Parses a Retry-After value (delta seconds or HTTP-date) into milliseconds from `now`. */
export function parseRetryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** The delay before the next retry: the partner's Retry-After when given (capped), else backoff. */
export function retryDelayMs(
  retry: number,
  retryAfter: string | undefined,
  now: number,
  policy: RetryPolicy = defaultRetryPolicy,
  random: () => number = Math.random,
): number {
  const asked = parseRetryAfterMs(retryAfter, now);
  if (asked !== undefined) return Math.min(Math.max(asked, policy.minRetryAfterMs ?? 1_000), policy.maxRetryAfterMs);
  return backoffDelayMs(retry, policy, random);
}
