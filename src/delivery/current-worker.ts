import type { BatchingOptions, CurrentRecord, ProgressUpdate } from "../currents/model.js";
import type { PartnerDefinition, ResolvedSettings } from "../partners/define-partner.js";
import type { DeadLetter, EventLog, StoredEvent } from "../store/port.js";
import { type AttemptResult, decide, describeResult } from "./attempt-outcome.js";
import { type RetryPolicy, defaultRetryPolicy, retryDelayMs } from "./retry-policy.js";
import { applyTransformations } from "./transformations.js";
import { Wakeup, sleep } from "./wakeup.js";

/** One recorded attempt, for `GET /api/v1/currents/{id}/attempts`. */
export interface AttemptRecord {
  readonly at: number;
  readonly events: number;
  readonly status: number | null;
  readonly latencyMs: number;
  readonly outcome: string;
  readonly error: string | null;
}

export interface WorkerDeps {
  readonly events: EventLog;
  readonly addDeadLetters: (letters: Omit<DeadLetter, "id">[]) => Promise<void>;
  readonly send: (request: ReturnType<PartnerDefinition["buildRequest"]>, timeoutMs: number, signal: AbortSignal) => Promise<AttemptResult>;
  readonly recordProgress: (update: ProgressUpdate) => void;
  readonly recordAttempt: (currentId: string, attempt: AttemptRecord) => void;
  /** The partner refused the credentials or URL: the Current must become failing. */
  readonly onFailing: (currentId: string, reason: string) => void;
  readonly now: () => number;
  readonly random: () => number;
  readonly retryPolicy?: RetryPolicy;
}

export interface WorkerSpec {
  readonly current: CurrentRecord;
  readonly partner: PartnerDefinition;
  readonly settings: ResolvedSettings;
  readonly batching: Required<BatchingOptions>;
  /** Resume after this seq (the Current's acked position). */
  readonly startSeq: number;
}

interface Batch {
  readonly events: StoredEvent[];
  /** When this batch is settled, every selected event up to here is settled. */
  readonly uptoSeq: number;
  settled: boolean;
}

/** Rows scanned per store read when looking for a Current's events. */
const SCAN_LIMIT = 20_000;

/**
 * Delivers one active Current's events. Modes:
 *
 * - FILLING:  reads the Current's events after its read position into a look-ahead, and
 *             cuts a batch when it holds `maxBatchEvents` or `maxBatchBytes`, or when its
 *             oldest event has waited `lingerMs`.
 * - SENDING:  up to `maxInFlight` batches at once. Each batch is retried (same events, same
 *             Idempotency-Key) until it settles: delivered, or split / halved with the events
 *             refused alone dead-lettered.
 * - BACKING_OFF: after a retryable failure, no new batch starts before the retry is due.
 * - STOPPED:  `stop()` aborts sleeps and requests; batches not settled are simply not acked,
 *             so they are read again by the next worker (at least once, never lost).
 *
 * The acked position advances only over a prefix of settled batches, so a crash at any
 * point re-sends at most the batches that were in flight.
 */
export class CurrentWorker {
  readonly #spec: WorkerSpec;
  readonly #deps: WorkerDeps;
  readonly #abort = new AbortController();
  readonly #wakeup = new Wakeup();
  readonly #settledWakeup = new Wakeup();
  #lookahead: StoredEvent[] = [];
  #readSeq: number;
  #ackedSeq: number;
  #inFlight: Batch[] = [];
  #backoffUntil = 0;
  #failing = false;
  #loop: Promise<void> | undefined;
  #tasks = new Set<Promise<void>>();

  constructor(spec: WorkerSpec, deps: WorkerDeps) {
    this.#spec = spec;
    this.#deps = deps;
    this.#readSeq = spec.startSeq;
    this.#ackedSeq = spec.startSeq;
  }

  get currentId(): string {
    return this.#spec.current.id;
  }

  start(): void {
    this.#loop ??= this.#run().catch((error) => {
      this.#deps.recordProgress({ currentId: this.currentId, lastError: `worker stopped: ${(error as Error).message}`, lastErrorAt: this.#deps.now() });
    });
  }

  /** New events may be there. */
  wake(): void {
    this.#wakeup.wake();
  }

  /** Stops: waits up to `graceMs` for batches in flight to settle, then aborts them. */
  async stop(graceMs = 0): Promise<void> {
    const stopping = this.#abort.signal;
    if (!stopping.aborted && graceMs > 0 && this.#tasks.size > 0) {
      this.#failing = true; // start no new batch
      this.#wakeup.wake();
      await Promise.race([Promise.allSettled([...this.#tasks]), sleep(graceMs)]);
    }
    this.#abort.abort();
    this.#wakeup.wake();
    this.#settledWakeup.wake();
    await this.#loop;
    await Promise.allSettled([...this.#tasks]);
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const { maxBatchEvents, maxBatchBytes, lingerMs, maxInFlight } = this.#spec.batching;
    while (!signal.aborted && !this.#failing) {
      const now = this.#deps.now();
      if (this.#backoffUntil > now) {
        await sleep(this.#backoffUntil - now, signal);
        continue;
      }
      if (this.#inFlight.length >= maxInFlight) {
        await this.#settledWakeup.wait(Infinity, signal);
        continue;
      }
      if (this.#lookahead.length < maxBatchEvents) {
        const { events, scannedTo } = await this.#deps.events.read({
          workspace: this.#spec.current.workspace,
          types: this.#spec.current.events,
          afterSeq: this.#readSeq,
          limit: maxBatchEvents * 2,
          scanLimit: SCAN_LIMIT,
        });
        for (const e of events) this.#lookahead.push(e);
        const progressed = scannedTo > this.#readSeq;
        this.#readSeq = scannedTo;
        if (this.#lookahead.length === 0) {
          this.#advanceIdle();
          if (!progressed) await this.#wakeup.wait(lingerMs, signal);
          continue;
        }
        if (this.#lookahead.length < maxBatchEvents && progressed) continue;
      }
      const n = this.#fits(maxBatchEvents, maxBatchBytes);
      const full = n >= maxBatchEvents || n < this.#lookahead.length;
      const oldest = this.#lookahead[0] as StoredEvent;
      const waited = now - oldest.receivedAt;
      if (!full && waited < lingerMs) {
        await this.#wakeup.wait(lingerMs - waited, signal);
        continue;
      }
      const events = this.#lookahead.splice(0, n);
      const uptoSeq = this.#lookahead.length === 0 ? this.#readSeq : (events[events.length - 1] as StoredEvent).seq;
      this.#dispatch({ events, uptoSeq, settled: false });
    }
  }

  /** How many look-ahead events fit in one batch (at least one). */
  #fits(maxEvents: number, maxBytes: number): number {
    let bytes = 12;
    let n = 0;
    for (const e of this.#lookahead) {
      if (n >= maxEvents) break;
      bytes += e.body.length + 1;
      if (n > 0 && bytes > maxBytes) break;
      n++;
    }
    return n;
  }

  /** Nothing read and nothing in flight: the scanned range holds nothing for this Current. */
  #advanceIdle(): void {
    if (this.#inFlight.length === 0 && this.#readSeq > this.#ackedSeq) {
      this.#ackedSeq = this.#readSeq;
      this.#deps.recordProgress({ currentId: this.currentId, ackedSeq: this.#ackedSeq });
    }
  }

  #dispatch(batch: Batch): void {
    this.#inFlight.push(batch);
    const task = this.#deliver(batch.events)
      .then((settled) => {
        if (!settled) return;
        batch.settled = true;
        this.#ackSettledPrefix();
      })
      .finally(() => {
        this.#tasks.delete(task);
        this.#settledWakeup.wake();
      });
    this.#tasks.add(task);
  }

  #ackSettledPrefix(): void {
    let advanced = false;
    while (this.#inFlight[0]?.settled) {
      this.#ackedSeq = Math.max(this.#ackedSeq, (this.#inFlight.shift() as Batch).uptoSeq);
      advanced = true;
    }
    if (advanced) this.#deps.recordProgress({ currentId: this.currentId, ackedSeq: this.#ackedSeq });
  }

  /**
   * Sends `events` until each is delivered or dead-lettered (true), or the worker stops
   * or the Current starts failing (false: the batch stays unacked and is read again later).
   */
  async #deliver(events: StoredEvent[]): Promise<boolean> {
    const signal = this.#abort.signal;
    const { current, partner, settings, batching } = this.#spec;
    const first = events[0] as StoredEvent;
    const last = events[events.length - 1] as StoredEvent;
    const idempotencyKey = `${current.id}:${first.seq}-${last.seq}:${events.length}`;
    const bodies = events.map((e) => applyTransformations(e.body, current.transformations));
    for (let retry = 1; !signal.aborted; retry++) {
      if (this.#failing) return false;
      const request = partner.buildRequest({ bodies, idempotencyKey }, settings, this.#deps.now());
      const result = await this.#deps.send(request, batching.requestTimeoutMs, signal);
      if (signal.aborted) return false;
      const decision = decide(result);
      const status = result.kind === "answered" ? result.status : null;
      const error = decision === "delivered" ? null : describeResult(result);
      this.#deps.recordAttempt(current.id, { at: this.#deps.now(), events: events.length, status, latencyMs: result.latencyMs, outcome: decision, error });
      switch (decision) {
        case "delivered":
          this.#deps.recordProgress({ currentId: current.id, deliveredDelta: events.length, lastDeliveredAt: this.#deps.now() });
          return true;
        case "failing":
          this.#deps.recordProgress({ currentId: current.id, failedAttemptsDelta: 1, lastError: error, lastErrorAt: this.#deps.now() });
          this.#failing = true;
          this.#deps.onFailing(current.id, error ?? "refused");
          this.#wakeup.wake();
          return false;
        case "split":
        case "halve": {
          this.#deps.recordProgress({ currentId: current.id, failedAttemptsDelta: 1, lastError: error, lastErrorAt: this.#deps.now() });
          if (events.length === 1) {
            await this.#deps.addDeadLetters([{
              currentId: current.id, seq: first.seq, body: first.body, status,
              reason: decision === "halve" ? "too large for the partner (413)" : `refused by the partner (${status})`,
              excerpt: result.kind === "answered" ? result.excerpt.slice(0, 1024) : "",
              createdAt: this.#deps.now(),
            }]);
            this.#deps.recordProgress({ currentId: current.id, deadLetteredDelta: 1 });
            return true;
          }
          const mid = Math.ceil(events.length / 2);
          const left = await this.#deliver(events.slice(0, mid));
          if (!left) return false;
          return this.#deliver(events.slice(mid));
        }
        case "retry": {
          this.#deps.recordProgress({ currentId: current.id, failedAttemptsDelta: 1, lastError: error, lastErrorAt: this.#deps.now() });
          const retryAfter = result.kind === "answered" ? result.retryAfter : undefined;
          const delay = retryDelayMs(retry, retryAfter, this.#deps.now(), this.#deps.retryPolicy ?? defaultRetryPolicy, this.#deps.random);
          this.#backoffUntil = Math.max(this.#backoffUntil, this.#deps.now() + delay);
          await sleep(delay, signal);
          break;
        }
      }
    }
    return false;
  }
}
