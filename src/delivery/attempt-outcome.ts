/**
 * What one attempt's answer means (SPEC section 5). Pure: status in, decision out.
 *
 * - delivered: 2xx.
 * - split:     400 / 422, the partner refused something in the batch: bisect, and an event
 *              refused alone becomes a dead letter.
 * - halve:     413, the batch is too large: halve until it fits; a single event still
 *              refused becomes a dead letter.
 * - failing:   401 / 403 / 404, credentials or URL are wrong: the Current stops sending.
 * - retry:     everything else (5xx, 408, 429, timeouts, connection errors, unlisted codes).
 */
export type AttemptDecision = "delivered" | "retry" | "split" | "halve" | "failing";

export function decideOnStatus(status: number): AttemptDecision {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 400 || status === 422) return "split";
  if (status === 413) return "halve";
  if (status === 401 || status === 403 || status === 404) return "failing";
  return "retry";
}

/** The result of sending one request. */
export type AttemptResult =
  | { readonly kind: "answered"; readonly status: number; readonly retryAfter?: string; readonly excerpt: string; readonly latencyMs: number }
  | { readonly kind: "error"; readonly error: string; readonly refused: boolean; readonly latencyMs: number };

export function decide(result: AttemptResult): AttemptDecision {
  if (result.kind === "answered") return decideOnStatus(result.status);
  return result.refused ? "failing" : "retry";
}

export function describeResult(result: AttemptResult): string {
  if (result.kind === "error") return result.error;
  const excerpt = result.excerpt ? `: ${result.excerpt.slice(0, 200)}` : "";
  return `HTTP ${result.status}${excerpt}`;
}
