import { describe, expect, it } from "vitest";
import type { CurrentRecord } from "../../src/currents/model.js";
import type { AttemptResult } from "../../src/delivery/attempt-outcome.js";
import { type BatchControl, type DeliveryDeps, deliverBatch } from "../../src/delivery/batch-delivery.js";
import { partnerById } from "../../src/partners/registry.js";

const current = { id: "c1", workspace: "w", name: "c", partner: "custom_http", contactEmail: null, settings: {}, secretsEnc: null, secretHints: {}, events: ["t"],
  transformations: [], batching: {}, status: "active", statusReason: null, statusSince: 0, createdAt: 0, updatedAt: 0, launchedAt: 0, version: 1 } as CurrentRecord;
const target = { current, partner: partnerById("custom_http")!, settings: { endpoint: "http://127.0.0.1:9/x" }, requestTimeoutMs: 1_000 };
const events = [{ seq: 1, type: "t", receivedAt: 1, body: '{"id":"a"}' }];

function deps(sent: number[]): DeliveryDeps {
  return {
    addDeadLetters: async () => undefined,
    send: async (): Promise<AttemptResult> => { sent.push(Date.now()); return { kind: "answered", status: 200, excerpt: "", latencyMs: 1 }; },
    recordProgress: () => undefined, recordAttempt: () => undefined, onFailing: () => undefined,
    now: Date.now, random: () => 0.5,
  };
}

describe("deliverBatch", () => {
  it("sends nothing while the Current's lease is not confirmed, and goes on once it is", async () => {
    const sent: number[] = [];
    let held = true;
    const control: BatchControl = { signal: new AbortController().signal, halted: () => false, halt: () => undefined, backoff: () => undefined, leaseHeld: () => !held };
    const done = deliverBatch(target, deps(sent), control, events);
    await new Promise((r) => setTimeout(r, 450));
    expect(sent).toEqual([]);
    held = false;
    expect(await done).toBe(true);
    expect(sent).toHaveLength(1);
  });

  it("gives up without sending when stopped while the lease is unconfirmed (the batch stays unsettled)", async () => {
    const sent: number[] = [];
    const abort = new AbortController();
    const control: BatchControl = { signal: abort.signal, halted: () => false, halt: () => undefined, backoff: () => undefined, leaseHeld: () => false };
    const done = deliverBatch(target, deps(sent), control, events);
    setTimeout(() => abort.abort(), 250);
    expect(await done).toBe(false);
    expect(sent).toEqual([]);
  });

  it("numbers attempts by requests sent: waiting again (another batch's backoff, an unconfirmed lease) is not an attempt", async () => {
    const answers = [503, 200];
    const attempts: Array<[number | undefined, string]> = [];
    let backoffUntil = 0;
    let leaseChecks = 0;
    const d: DeliveryDeps = {
      ...deps([]),
      send: async (): Promise<AttemptResult> => ({ kind: "answered", status: answers.shift() ?? 200, excerpt: "", latencyMs: 1 }),
      recordAttempt: (_id, a) => { attempts.push([a.attempt, a.outcome]); },
      retryPolicy: { baseDelayMs: 10, maxDelayMs: 10, multiplier: 1, jitterRatio: 0, maxRetryAfterMs: 1_000 },
    };
    const control: BatchControl = {
      signal: new AbortController().signal, halted: () => false, halt: () => undefined,
      // Another batch in flight pushes the shared backoff further while this one waits: it waits again.
      backoff: (until) => { backoffUntil = Math.max(backoffUntil, until); if (attempts.length === 1) backoffUntil += 30; },
      heldUntil: () => backoffUntil,
      // The lease is briefly unconfirmed once after the first attempt.
      leaseHeld: () => attempts.length !== 1 || ++leaseChecks > 1,
    };
    expect(await deliverBatch(target, d, control, events)).toBe(true);
    expect(attempts).toEqual([[1, "retry"], [2, "delivered"]]);
  });
});
