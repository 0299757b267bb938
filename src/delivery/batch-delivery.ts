import type { CurrentRecord, ProgressUpdate } from "../currents/model.js";
import type { EventOutcomes, OutgoingRequest, PartnerDefinition, ResolvedSettings } from "../partners/define-partner.js";
import type { EndpointPolicy } from "../security/ssrf-guard.js";
import type { DeadLetter, StoredEvent } from "../store/port.js";
import { type AttemptResult, decide, describeResult } from "./attempt-outcome.js";
import { type RetryPolicy, defaultRetryPolicy, retryDelayMs } from "./retry-policy.js";
import { applyTransformations } from "./transformations.js";
import { sleep } from "./wakeup.js";

/** One recorded attempt, for `GET /api/v1/currents/{id}/attempts`. */
export interface AttemptRecord {
  readonly at: number;
  readonly events: number;
  readonly status: number | null;
  readonly latencyMs: number;
  readonly outcome: string;
  readonly error: string | null;
  /** Delivered batches: how long their oldest event waited since ingest acknowledged it. */
  readonly oldestAgeMs?: number;
  /** The batch's Idempotency-Key (stable across its retries). */
  readonly idempotencyKey?: string;
  /** Delivered events by type (the volume by event type). */
  readonly types?: Readonly<Record<string, number>>;
  /** The batch's first and last event, which try of the batch this was, and the start of the answer. */
  readonly firstSeq?: number;
  readonly lastSeq?: number;
  readonly attempt?: number;
  readonly excerpt?: string;
  /** JetStream mode: the partition the batch came from. */
  readonly partition?: number;
}

/** How much of a partner's answer the attempt log keeps. */
const EXCERPT_KEPT = 300;

/** Events by type, for the volume by event type. */
function typesOf(events: readonly StoredEvent[], skip?: (index: number) => boolean): Record<string, number> {
  const out: Record<string, number> = {};
  events.forEach((e, i) => {
    if (!skip?.(i)) out[e.type] = (out[e.type] ?? 0) + 1;
  });
  return out;
}

/** What sending needs from the outside world; injected so tests control clock and randomness. */
export interface DeliveryDeps {
  /** With `unlessHeld`, an event already held as a dead letter of the Current is not added again. */
  readonly addDeadLetters: (letters: Omit<DeadLetter, "id">[], options?: { unlessHeld?: boolean }) => Promise<void>;
  readonly send: (request: OutgoingRequest, timeoutMs: number, signal: AbortSignal) => Promise<AttemptResult>;
  readonly recordProgress: (update: ProgressUpdate) => void;
  readonly recordAttempt: (currentId: string, attempt: AttemptRecord) => void;
  /** The partner refused the credentials or URL: the Current must become failing. */
  readonly onFailing: (currentId: string, reason: string) => void;
  readonly now: () => number;
  readonly random: () => number;
  readonly retryPolicy?: RetryPolicy;
}

export interface BatchTarget {
  readonly current: CurrentRecord;
  readonly partner: PartnerDefinition;
  readonly settings: ResolvedSettings;
  readonly requestTimeoutMs: number;
  /** The partner's memory for this Current (see PartnerDefinition.createState). */
  readonly state?: unknown;
  /** The SSRF guard's policy, for partners that connect by themselves (storage's S3 client). */
  readonly policy?: EndpointPolicy;
}

export interface BatchControl {
  readonly signal: AbortSignal;
  /** True once the Current is failing: stop sending, leave the batch unsettled. */
  halted(): boolean;
  halt(): void;
  /** A retry is due at `untilMs`: every request of the Current waits until then (see `heldUntil`). */
  backoff(untilMs: number): void;
  /** No request of the Current goes before this time (a partner's Retry-After holds them all). */
  heldUntil?(): number;
  /** False while this process's lease on the Current is not confirmed: attempts wait (server mode). */
  leaseHeld?(): boolean;
  /** Distinguishes replays and redrives in the Idempotency-Key. */
  readonly keyPrefix?: string;
  /** Waits before a retry; "Retry now" cuts it short (default: a plain sleep until aborted). */
  nap?(ms: number): Promise<void>;
}

/**
 * Sends `events` until each is delivered or dead-lettered (true), or sending stops: the
 * control was aborted or the Current started failing (false: nothing is settled, the
 * events will be sent again). Implements the SPEC section 5 table for one batch:
 * retry the same batch, bisect on 400/422, halve on 413, fail the Current on 401/403/404.
 */
export async function deliverBatch(target: BatchTarget, deps: DeliveryDeps, control: BatchControl, all: readonly StoredEvent[]): Promise<boolean> {
  const { current, partner, settings } = target;
  const progress = (u: Omit<ProgressUpdate, "currentId">) => deps.recordProgress({ currentId: current.id, ...u });
  // An event the Current's transformations cannot handle is a dead letter, never a stuck worker.
  const events: StoredEvent[] = [];
  const bodies: string[] = [];
  for (const e of all) {
    let reason: string | undefined;
    try {
      const body = applyTransformations(e.body, current.transformations);
      // An event the partner can never take with these settings (e.g. no identity for Heap).
      reason = refusal(partner, body, settings);
      if (reason === undefined) {
        bodies.push(body);
        events.push(e);
        continue;
      }
    } catch (error) {
      reason = `could not apply the field transformations: ${(error as Error).message}`;
    }
    const letter = { currentId: current.id, seq: e.seq, body: e.body, status: null, reason, excerpt: "", createdAt: deps.now() };
    if (!(await storeDeadLetters(deps, control, [letter]))) return false;
  }
  if (events.length === 0) return true;
  const first = events[0] as StoredEvent;
  const last = events[events.length - 1] as StoredEvent;
  const idempotencyKey = `${current.id}:${control.keyPrefix ?? ""}${first.seq}-${last.seq}:${events.length}`;
  // Attempts are requests sent: waiting again (another batch's backoff, a lease being confirmed) is not one.
  let retry = 0;
  while (!control.signal.aborted) {
    if (control.halted()) return false;
    const held = (control.heldUntil?.() ?? 0) - deps.now();
    if (held > 0) {
      await (control.nap ? control.nap(held) : sleep(held, control.signal));
      continue;
    }
    if (control.leaseHeld && !control.leaseHeld()) {
      await sleep(200, control.signal);
      continue;
    }
    retry++;
    // Positions and acceptance times only for a partner that writes files (no extra work per batch for the others).
    const batch = { bodies, idempotencyKey, ...(partner.deliver ? { events: events.map((e) => ({ seq: e.seq, receivedAt: e.receivedAt })) } : {}) };
    const request: OutgoingRequest = partner.deliver ? { url: "", headers: {}, body: "" } : partner.buildRequest(batch, settings, deps.now(), target.state);
    const result = partner.deliver
      // Files are large and rare: a minute at least before an upload is given up (and retried).
      ? await partner.deliver(batch, settings, AbortSignal.any([control.signal, AbortSignal.timeout(Math.max(target.requestTimeoutMs, 60_000))]), current, target.policy ?? { allowPrivate: false })
      : await sendAll(deps, request, target.requestTimeoutMs, control.signal);
    if (control.signal.aborted) return false;
    const decision = decide(result);
    const status = result.kind === "answered" ? result.status : null;
    const error = decision === "delivered" ? null : describeResult(result);
    const tried = { firstSeq: first.seq, lastSeq: last.seq, attempt: retry, excerpt: result.kind === "answered" ? result.excerpt.slice(0, EXCERPT_KEPT) : "" };
    deps.recordAttempt(current.id, {
      ...tried, at: deps.now(), events: events.length, status, latencyMs: result.latencyMs, outcome: decision, error, idempotencyKey,
      // Events are in seq order, and acceptance time grows with seq: the first is the oldest.
      ...(decision === "delivered" && first.receivedAt > 0 ? { oldestAgeMs: Math.max(0, deps.now() - first.receivedAt) } : {}),
      ...(decision === "delivered" && !partner.readAnswer ? { types: typesOf(events) } : {}),
    });
    const outcomes = result.kind === "answered" && partner.readAnswer
      ? partner.readAnswer({ status: result.status, body: result.excerpt, retryAfter: result.retryAfter }, events.length, settings)
      : undefined;
    if (outcomes?.failing !== undefined) {
      deps.recordAttempt(current.id, { ...tried, at: deps.now(), events: events.length, status, latencyMs: result.latencyMs, outcome: "failing", error: outcomes.failing, idempotencyKey });
      progress({ failedAttemptsDelta: 1, lastError: outcomes.failing, lastErrorAt: deps.now() });
      control.halt();
      deps.onFailing(current.id, outcomes.failing);
      return false;
    }
    if (outcomes && result.kind === "answered") {
      const settled = await settleOutcomes(target, deps, control, events, outcomes, result, { ...tried, idempotencyKey }, () => request.onDelivered?.());
      if (settled !== "again") return settled;
      continue;
    }
    if (decision === "delivered") {
      request.onDelivered?.();
      progress({ deliveredDelta: events.length, lastDeliveredAt: deps.now(), ...(request.valuesCut ? { valuesCutDelta: request.valuesCut } : {}) });
      return true;
    }
    progress({ failedAttemptsDelta: 1, lastError: error, lastErrorAt: deps.now() });
    if (decision === "failing") {
      control.halt();
      deps.onFailing(current.id, error ?? "refused");
      return false;
    }
    if (decision === "split" || decision === "halve") {
      if (events.length === 1) {
        const stored = await storeDeadLetters(deps, control, [{
          currentId: current.id, seq: first.seq, body: first.body, status,
          reason: decision === "halve" ? "too large for the partner (413)" : `refused by the partner (${status})`,
          excerpt: result.kind === "answered" ? result.excerpt.slice(0, 1024) : "",
          createdAt: deps.now(),
        }]);
        return stored;
      }
      const mid = Math.ceil(events.length / 2);
      if (!(await deliverBatch(target, deps, control, events.slice(0, mid)))) return false;
      return deliverBatch(target, deps, control, events.slice(mid));
    }
    const retryAfter = result.kind === "answered" ? result.retryAfter : undefined;
    const delay = retryDelayMs(retry, retryAfter, deps.now(), deps.retryPolicy ?? defaultRetryPolicy, deps.random);
    control.backoff(deps.now() + delay);
    await (control.nap ? control.nap(delay) : sleep(delay, control.signal));
  }
  return false;
}

/**
 * Applies an answer's per-event outcomes: dead letters for the events refused for good, the
 * others delivered, and the events to retry sent again alone (at once, or after their wait).
 * "again" when every event is to be retried after the same wait: the caller's loop retries the
 * batch as it is.
 */
async function settleOutcomes(
  target: BatchTarget, deps: DeliveryDeps, control: BatchControl, events: readonly StoredEvent[], outcomes: EventOutcomes,
  result: Extract<AttemptResult, { kind: "answered" }>, tried: Pick<AttemptRecord, "firstSeq" | "lastSeq" | "attempt" | "excerpt" | "idempotencyKey">, onDelivered: () => void,
): Promise<boolean | "again"> {
  const { current } = target;
  const dead = new Map<number, string>();
  for (const d of outcomes.deadLetters ?? []) if (d.index >= 0 && d.index < events.length) dead.set(d.index, d.reason);
  const retry = new Map<number, number>();
  for (const r of outcomes.retry ?? []) if (r.index >= 0 && r.index < events.length && !dead.has(r.index)) retry.set(r.index, r.afterMs ?? 0);
  const delivered = events.length - dead.size - retry.size;
  const outcome = delivered === events.length ? "delivered" : `partial: ${delivered} delivered, ${dead.size} refused, ${retry.size} to retry`;
  deps.recordAttempt(current.id, {
    ...tried, at: deps.now(), events: events.length, status: result.status, latencyMs: result.latencyMs, outcome, error: dead.size + retry.size > 0 ? describeResult(result) : null,
    types: typesOf(events, (i) => dead.has(i) || retry.has(i)),
  });
  if (dead.size === 0 && retry.size === events.length) {
    const waits = new Set(retry.values());
    if (waits.size === 1) {
      const wait = [...waits][0] as number;
      deps.recordProgress({ currentId: current.id, failedAttemptsDelta: 1, lastError: describeResult(result), lastErrorAt: deps.now() });
      await sleep(Math.max(wait, 1_000), control.signal);
      return "again";
    }
  }
  if (dead.size > 0) {
    const letters = [...dead].map(([i, reason]) => {
      const e = events[i] as StoredEvent;
      return { currentId: current.id, seq: e.seq, body: e.body, status: result.status, reason: reason.slice(0, 500), excerpt: result.excerpt.slice(0, 1024), createdAt: deps.now() };
    });
    if (!(await storeDeadLetters(deps, control, letters))) return false;
  }
  if (delivered > 0) {
    onDelivered();
    deps.recordProgress({ currentId: current.id, deliveredDelta: delivered, lastDeliveredAt: deps.now() });
  }
  const now = [...retry].filter(([, ms]) => ms <= 0).map(([i]) => events[i] as StoredEvent);
  if (now.length > 0 && !(await deliverBatch(target, deps, control, now))) return false;
  const later = [...retry].filter(([, ms]) => ms > 0).sort((a, b) => a[1] - b[1]);
  if (later.length > 0) {
    await sleep((later[later.length - 1] as [number, number])[1], control.signal);
    if (control.signal.aborted) return false;
    return deliverBatch(target, deps, control, later.map(([i]) => events[i] as StoredEvent));
  }
  return true;
}

/** The partner's reason to refuse an event whatever the attempt (a throw names a body it cannot read). */
function refusal(partner: PartnerDefinition, body: string, settings: ResolvedSettings): string | undefined {
  if (!partner.refuse) return undefined;
  try {
    return partner.refuse(body, settings);
  } catch (error) {
    return `the partner cannot read the event: ${(error as Error).message}`;
  }
}

/**
 * Sends the requests that must come first (e.g. Heap's user properties), then the batch's own:
 * the first answer that is not 2xx is the attempt's result.
 */
async function sendAll(deps: DeliveryDeps, request: OutgoingRequest, timeoutMs: number, signal: AbortSignal): Promise<AttemptResult> {
  let latencyMs = 0;
  for (const first of request.before ?? []) {
    const r = await deps.send(first, timeoutMs, signal);
    latencyMs += r.latencyMs;
    if (r.kind !== "answered" || r.status < 200 || r.status >= 300) return r;
  }
  const r = await deps.send(request, timeoutMs, signal);
  return latencyMs === 0 ? r : { ...r, latencyMs: r.latencyMs + latencyMs };
}

/** Store-failure retries of a dead letter: 1 s doubling to 30 s. */
const STORE_RETRY_MAX_MS = 30_000;

/**
 * Stores dead letters, trying again while the store fails (busy, disk full, database down):
 * the failure is visible in the Current's lastError and never crashes the worker. False when
 * sending stops first (the batch stays unsettled and is sent again later).
 */
async function storeDeadLetters(deps: DeliveryDeps, control: BatchControl, letters: Omit<DeadLetter, "id">[]): Promise<boolean> {
  for (let delay = 1_000; !control.signal.aborted; delay = Math.min(delay * 2, STORE_RETRY_MAX_MS)) {
    try {
      // A batch re-sent after a crash (at least once) and refused again keeps one dead letter per
      // event; a redrive replaces the letters it sends (they are removed once it settles).
      await deps.addDeadLetters(letters, { unlessHeld: !control.keyPrefix?.startsWith("redrive-") });
      return true;
    } catch (error) {
      const currentId = (letters[0] as Omit<DeadLetter, "id">).currentId;
      deps.recordProgress({ currentId, lastError: `could not store a dead letter (will retry): ${(error as Error).message}`, lastErrorAt: deps.now() });
      await sleep(delay, control.signal);
    }
  }
  return false;
}
