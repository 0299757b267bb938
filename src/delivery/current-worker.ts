import type { BatchingOptions, CurrentRecord } from "../currents/model.js";
import type { PartnerDefinition, ResolvedSettings } from "../partners/define-partner.js";
import type { EventLog, StoredEvent } from "../store/port.js";
import { type DeliveryDeps, deliverBatch } from "./batch-delivery.js";
import { Wakeup, sleep } from "./wakeup.js";

export type { AttemptRecord } from "./batch-delivery.js";

export interface WorkerDeps extends DeliveryDeps {
  readonly events: EventLog;
  /**
   * When given, a settled batch keeps its in-flight slot until its acknowledged position is
   * written: a crash then re-sends at most `maxInFlight` batches (server mode).
   */
  readonly persistProgress?: () => Promise<void>;
  /** Whether this process still surely holds the Current's lease (checked before every attempt). */
  readonly leaseHeld?: (currentId: string) => boolean;
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
/** Wait before reading again after the store failed to answer. */
const STORE_RETRY_MS = 1_000;

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
  /** Batches acknowledged in memory whose position is not yet written (see persistProgress). */
  #unwritten = 0;
  #backoffUntil = 0;
  #failing = false;
  /** stop() with a grace period: no new batch, no new retry; attempts under way may finish. */
  #draining = false;
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

  /** The Current as it was when this worker started. */
  get current(): CurrentRecord {
    return this.#spec.current;
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
      this.#draining = true;
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
    while (!signal.aborted && !this.#failing && !this.#draining) {
      const now = this.#deps.now();
      if (this.#backoffUntil > now) {
        await sleep(this.#backoffUntil - now, signal);
        continue;
      }
      if (this.#inFlight.length + this.#unwritten >= maxInFlight) {
        await this.#settledWakeup.wait(Infinity, signal);
        continue;
      }
      if (this.#lookahead.length < maxBatchEvents) {
        let read;
        try {
          read = await this.#deps.events.read({
            workspace: this.#spec.current.workspace,
            types: this.#spec.current.events,
            afterSeq: this.#readSeq,
            limit: maxBatchEvents * 2,
            scanLimit: SCAN_LIMIT,
          });
        } catch (error) {
          // The store is unreachable (server mode: the database restarts): wait, read again.
          this.#deps.recordProgress({ currentId: this.currentId, lastError: `could not read events: ${(error as Error).message}`, lastErrorAt: now });
          await sleep(STORE_RETRY_MS, signal);
          continue;
        }
        const { events, scannedTo } = read;
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
    const task = this.#deliverUntilSettled(batch.events)
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
    let acked = 0;
    while (this.#inFlight[0]?.settled) {
      this.#ackedSeq = Math.max(this.#ackedSeq, (this.#inFlight.shift() as Batch).uptoSeq);
      acked++;
    }
    if (acked === 0) return;
    this.#deps.recordProgress({ currentId: this.currentId, ackedSeq: this.#ackedSeq });
    const persist = this.#deps.persistProgress;
    if (!persist) return;
    this.#unwritten += acked;
    void persist().finally(() => {
      this.#unwritten -= acked;
      this.#settledWakeup.wake();
    });
  }

  /**
   * Delivers a batch; a failure of our own (not the partner's answer, which deliverBatch
   * handles) is logged in lastError and the batch is tried again after a pause, so no throw
   * ever leaves a batch in flight forever or reaches the process.
   */
  async #deliverUntilSettled(events: StoredEvent[]): Promise<boolean> {
    for (let delay = 1_000; ; delay = Math.min(delay * 2, 30_000)) {
      try {
        return await this.#deliver(events);
      } catch (error) {
        if (this.#abort.signal.aborted) return false;
        this.#deps.recordProgress({ currentId: this.currentId, lastError: `delivery failed (will retry): ${(error as Error).message}`, lastErrorAt: this.#deps.now() });
        await sleep(delay, this.#abort.signal);
        if (this.#abort.signal.aborted || this.#failing || this.#draining) return false;
      }
    }
  }

  #deliver(events: StoredEvent[]): Promise<boolean> {
    const { current, partner, settings, batching } = this.#spec;
    return deliverBatch({ current, partner, settings, requestTimeoutMs: batching.requestTimeoutMs }, this.#deps, {
      signal: this.#abort.signal,
      halted: () => this.#failing || this.#draining,
      halt: () => {
        this.#failing = true;
        this.#wakeup.wake();
      },
      backoff: (until) => {
        this.#backoffUntil = Math.max(this.#backoffUntil, until);
      },
      heldUntil: () => this.#backoffUntil,
      leaseHeld: this.#deps.leaseHeld && (() => (this.#deps.leaseHeld as (id: string) => boolean)(this.currentId)),
    }, events);
  }
}
