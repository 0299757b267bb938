import type { BatchingOptions, CurrentRecord } from "../currents/model.js";
import type { PartnerDefinition, ResolvedSettings } from "../partners/define-partner.js";
import type { EventLog, StoredEvent } from "../store/port.js";
import { type DeliveryDeps, deliverBatch } from "./batch-delivery.js";
import { type BatchCharge, RateGate } from "./rate-gate.js";
import { Wakeup, sleep } from "./wakeup.js";
import { slotOf, userKeyOfText } from "../catalog/user-key.js";

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
  /** The SSRF guard's policy, for partners that connect by themselves. */
  readonly policy?: import("../security/ssrf-guard.js").EndpointPolicy;
  /** The window of partners' rate limits (a minute; shorter in tests and the bench). */
  readonly rateWindowMs?: number;
}

export interface WorkerSpec {
  readonly current: CurrentRecord;
  readonly partner: PartnerDefinition;
  readonly settings: ResolvedSettings;
  readonly batching: Required<BatchingOptions>;
  /** Resume after this seq (the Current's acked position). */
  readonly startSeq: number;
  /** JetStream mode: the partition this worker delivers (of `of`); the Current's other partitions have workers of their own. */
  readonly partition?: { readonly index: number; readonly of: number };
  /** The lease this worker runs under: the Current's id, or its (Current, partition) unit. */
  readonly unit?: string;
}

interface Batch {
  /** In seq order. */
  readonly events: StoredEvent[];
  settled: boolean;
  /** Per-user order: the lane this batch is the only one in flight of. */
  readonly lane?: number;
}

/** What the look-ahead allows to send now. */
interface Cut {
  /** Look-ahead indexes of the batch's events, in order. */
  readonly picked: number[];
  /** No point waiting for more: the batch is full, or a limit stopped it. */
  readonly full: boolean;
  /** Events a rate limit holds back now. */
  readonly held: number;
  readonly perKey: Map<string, number>;
  readonly lane?: number;
}

/** Rows scanned per store read when looking for a Current's events. */
const SCAN_LIMIT = 20_000;
/** Wait before reading again after the store failed to answer. */
const STORE_RETRY_MS = 1_000;
/**
 * Events a rate limit may hold in memory while the Current reads past them for other keys;
 * beyond it, reading waits (the held events are the oldest pending ones, and stay pending).
 */
export const MAX_HELD_EVENTS = 20_000;
/** Per-user order: users are hashed to this many lanes, each with at most one batch in flight. */
export const ORDER_LANES = 32;

/**
 * Delivers one active Current's events. Modes:
 *
 * - FILLING:  reads the Current's events after its read position into a look-ahead, and,
 *             as soon as a request slot is free, cuts a batch of what waits (up to
 *             `maxBatchEvents` / `maxBatchBytes`): a pipelined producer. Batches fill while
 *             every slot is busy, so they are fresh at low rates and full at high ones. With
 *             `fill`, a batch also waits up to `lingerMs` to fill (files, per-request billing).
 * - SENDING:  up to `maxInFlight` batches at once. Each batch is retried (same events, same
 *             Idempotency-Key) until it settles: delivered, or split / halved with the events
 *             refused alone dead-lettered.
 * - BACKING_OFF: after a retryable failure, no new batch starts before the retry is due.
 * - STOPPED:  `stop()` aborts sleeps and requests; batches not settled are simply not acked,
 *             so they are read again by the next worker (at least once, never lost).
 *
 * - HOLDING:  a partner with rate limits (Heap's server-side API) cuts batches within its
 *             window's room; a key over its own limit (one identity) is held back alone, its
 *             events kept in the look-ahead while the others are read past and sent.
 *
 * The acked position is just before the oldest event still open (held in the look-ahead or
 * in a batch not settled), so a crash re-sends at most those and what followed them; an
 * in-flight slot is released in dispatch order, so without holds at most `maxInFlight`
 * batches are re-sent.
 */
export class CurrentWorker {
  readonly #spec: WorkerSpec;
  readonly #deps: WorkerDeps;
  readonly #abort = new AbortController();
  readonly #wakeup = new Wakeup();
  readonly #settledWakeup = new Wakeup();
  /** Woken by "Retry now": retry waits end at once. */
  readonly #retryWakeup = new Wakeup();
  /** An error was shown in lastError since the last delivery: the next delivery clears it. */
  #errorShown = false;
  #lookahead: StoredEvent[] = [];
  readonly #gate: RateGate | undefined;
  /** Each look-ahead event's rate-limit key (parsed once). */
  readonly #keys = new WeakMap<StoredEvent, string | undefined>();
  /** Events the rate limit held back at the last cut. */
  #held = 0;
  /** Events left in the look-ahead at the last selective cut (held, or of a busy lane): read past them. */
  #skipped = 0;
  /** Per-user order: the number of lanes (0: off), the lanes with a batch in flight, each event's lane. */
  readonly #lanes: number;
  readonly #busyLanes = new Set<number>();
  readonly #laneCache = new WeakMap<StoredEvent, number>();
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
  readonly #state: unknown;
  #tasks = new Set<Promise<void>>();

  constructor(spec: WorkerSpec, deps: WorkerDeps) {
    this.#spec = spec;
    // lastError clears itself on recovery: the first delivery after an error shown writes it back to none.
    this.#deps = {
      ...deps,
      recordProgress: (u) => {
        if (u.lastError) this.#errorShown = true;
        deps.recordProgress(u);
        if ((u.deliveredDelta ?? 0) > 0 && this.#errorShown) {
          this.#errorShown = false;
          deps.recordProgress({ currentId: u.currentId, lastError: null });
        }
      },
    };
    this.#readSeq = spec.startSeq;
    this.#ackedSeq = spec.startSeq;
    const limit = spec.partner.rateLimit?.(spec.settings);
    this.#gate = limit ? new RateGate(limit, deps.rateWindowMs) : undefined;
    this.#state = spec.partner.createState?.();
    this.#lanes = spec.batching.ordering === "per_user" ? ORDER_LANES : 0;
  }

  /** Events a rate limit holds back now (they count as pending). */
  get held(): number {
    return this.#held;
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

  /** When the next attempt is due, while the Current waits to retry (undefined when it does not). */
  get retryAt(): number | undefined {
    return this.#backoffUntil > this.#deps.now() ? this.#backoffUntil : undefined;
  }

  /** "Retry now": waits for a retry end at once (Retry-After and backoff included); the attempt counts as usual. */
  retryNow(): void {
    this.#backoffUntil = 0;
    this.#retryWakeup.wake();
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
    const fillMs = this.#spec.batching.fill ? lingerMs : 0;
    while (!signal.aborted && !this.#failing && !this.#draining) {
      const now = this.#deps.now();
      if (this.#backoffUntil > now) {
        await sleep(this.#backoffUntil - now, signal);
        continue;
      }
      // Per-user order: a batch per lane, lanes side by side (one slow user holds back only its lane).
      if (this.#inFlight.length + this.#unwritten >= (this.#lanes > 0 ? Math.max(maxInFlight, this.#lanes) : maxInFlight)) {
        await this.#settledWakeup.wait(Infinity, signal);
        continue;
      }
      if (this.#lookahead.length - this.#skipped < maxBatchEvents && this.#lookahead.length < maxBatchEvents + MAX_HELD_EVENTS) {
        let read;
        try {
          read = await this.#deps.events.read({
            workspace: this.#spec.current.workspace,
            types: this.#spec.current.events,
            afterSeq: this.#readSeq,
            limit: maxBatchEvents * 2,
            scanLimit: SCAN_LIMIT,
            partition: this.#spec.partition?.index,
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
        if (this.#lookahead.length - this.#skipped < maxBatchEvents && progressed) continue;
      }
      if (this.#gate || this.#lanes > 0) {
        await this.#cutSelective(now, signal);
        continue;
      }
      const n = this.#fits(maxBatchEvents, maxBatchBytes);
      const full = n >= maxBatchEvents || n < this.#lookahead.length;
      const oldest = this.#lookahead[0] as StoredEvent;
      const waited = now - oldest.receivedAt;
      if (!full && waited < fillMs) {
        await this.#wakeup.wait(fillMs - waited, signal);
        continue;
      }
      this.#dispatch({ events: this.#lookahead.splice(0, n), settled: false });
    }
  }

  /**
   * Cuts a batch of the events a rate limit lets go now (skipping a key over its limit), and,
   * with per-user order, of one lane whose previous batch is settled; or waits for room, for a
   * lane to free, or for new events (they may be another identity's or another lane's).
   */
  async #cutSelective(now: number, signal: AbortSignal): Promise<void> {
    const { lingerMs, maxBatchEvents } = this.#spec.batching;
    const gate = this.#gate;
    const cut = this.#pick(now);
    this.#held = cut.held;
    this.#skipped = this.#lookahead.length - cut.picked.length;
    if (cut.picked.length === 0) {
      let at = Infinity;
      if (gate) {
        const heldKeys = new Set<string>();
        for (const e of this.#lookahead) {
          const k = this.#keyOf(gate, e);
          if (k !== undefined) heldKeys.add(k);
        }
        at = gate.nextRoomAt(now, heldKeys);
      }
      // More events may be another identity's or lane's: read again when the look-ahead has room.
      const readable = this.#lookahead.length < maxBatchEvents + MAX_HELD_EVENTS;
      await this.#wakeup.wait(Math.min(Number.isFinite(at) ? at - now : Infinity, readable ? lingerMs : Infinity), signal);
      return;
    }
    const oldest = this.#lookahead[cut.picked[0] as number] as StoredEvent;
    const waited = now - oldest.receivedAt;
    const fillMs = this.#spec.batching.fill ? lingerMs : 0;
    if (!cut.full && waited < fillMs) {
      await this.#wakeup.wait(fillMs - waited, signal);
      return;
    }
    const take = new Set(cut.picked);
    const events = cut.picked.map((i) => this.#lookahead[i] as StoredEvent);
    this.#lookahead = this.#lookahead.filter((_, i) => !take.has(i));
    this.#skipped = this.#lookahead.length === 0 ? 0 : this.#skipped;
    this.#held = this.#lookahead.length === 0 ? 0 : this.#held;
    this.#dispatch({ events, settled: false, lane: cut.lane }, gate?.charge(events.length, cut.perKey));
  }

  /** Which look-ahead events fit in one batch now: within the rate limits, and of one free lane. */
  #pick(now: number): Cut {
    const { maxBatchEvents, maxBatchBytes } = this.#spec.batching;
    const gate = this.#gate;
    const room = Math.min(maxBatchEvents, gate ? gate.appRoom(now) : Infinity);
    const picked: number[] = [];
    const perKey = new Map<string, number>();
    let bytes = 12;
    let held = 0;
    let full = room < maxBatchEvents;
    let lane: number | undefined;
    for (let i = 0; i < this.#lookahead.length; i++) {
      const e = this.#lookahead[i] as StoredEvent;
      if (this.#lanes > 0) {
        const l = this.#laneOf(e);
        if (this.#busyLanes.has(l) || (lane !== undefined && l !== lane)) continue;
        lane = l;
      }
      const key = gate ? this.#keyOf(gate, e) : undefined;
      if (gate && key !== undefined) {
        const used = perKey.get(key) ?? 0;
        if (gate.keyRoom(key, now) - used <= 0) {
          held++;
          if (this.#lanes > 0) break; // per-user order: nothing of this lane may pass the held event
          continue;
        }
        if (picked.length >= room) break;
        perKey.set(key, used + 1);
      } else if (picked.length >= room) {
        break;
      }
      if (picked.length > 0 && bytes + e.body.length + 1 > maxBatchBytes) {
        full = true;
        break;
      }
      bytes += e.body.length + 1;
      picked.push(i);
    }
    if (picked.length >= maxBatchEvents) full = true;
    return { picked, full, held, perKey, lane };
  }

  /** The lane of an event: its user (user_id, else external_user_id, else device_id) hashed; events with none share one. */
  #laneOf(e: StoredEvent): number {
    let lane = this.#laneCache.get(e);
    if (lane !== undefined) return lane;
    lane = slotOf(userKeyOfText(e.body), this.#lanes);
    this.#laneCache.set(e, lane);
    return lane;
  }

  #keyOf(gate: RateGate, e: StoredEvent): string | undefined {
    if (this.#keys.has(e)) return this.#keys.get(e);
    let key: string | undefined;
    try {
      key = gate.limit.keyOf?.(e.body);
    } catch {
      key = undefined; // not JSON the partner can read: it is refused when sent (a dead letter)
    }
    this.#keys.set(e, key);
    return key;
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
    if (this.#inFlight.length === 0) this.#advanceAck();
  }

  /** The acked position: just before the oldest open event (held, or in a batch not settled). */
  #advanceAck(): boolean {
    let ack = this.#readSeq;
    const held = this.#lookahead[0];
    if (held) ack = Math.min(ack, held.seq - 1);
    for (const b of this.#inFlight) if (!b.settled) ack = Math.min(ack, (b.events[0] as StoredEvent).seq - 1);
    if (ack <= this.#ackedSeq) return false;
    this.#ackedSeq = ack;
    this.#deps.recordProgress({ currentId: this.currentId, ackedSeq: ack, partition: this.#spec.partition });
    return true;
  }

  #dispatch(batch: Batch, charge?: BatchCharge): void {
    this.#inFlight.push(batch);
    if (batch.lane !== undefined) this.#busyLanes.add(batch.lane);
    const task = this.#deliverUntilSettled(batch.events, batch.lane !== undefined)
      .then((settled) => {
        if (!settled) return;
        batch.settled = true;
        this.#releaseSettledPrefix();
      })
      .finally(() => {
        if (charge) this.#gate?.answered(charge, this.#deps.now());
        if (batch.lane !== undefined) this.#busyLanes.delete(batch.lane);
        if (charge || batch.lane !== undefined) this.#wakeup.wake();
        this.#tasks.delete(task);
        this.#settledWakeup.wake();
      });
    this.#tasks.add(task);
  }

  /** Settled batches leave their in-flight slots in dispatch order; the acked position follows. */
  #releaseSettledPrefix(): void {
    let released = 0;
    while (this.#inFlight[0]?.settled) {
      this.#inFlight.shift();
      released++;
    }
    const advanced = this.#advanceAck();
    if (released === 0) return;
    const persist = this.#deps.persistProgress;
    if (!persist) return;
    // Server mode: a released slot stays counted until the position is written.
    this.#unwritten += released;
    void (advanced ? persist() : Promise.resolve()).finally(() => {
      this.#unwritten -= released;
      this.#settledWakeup.wake();
    });
  }

  /**
   * Delivers a batch; a failure of our own (not the partner's answer, which deliverBatch
   * handles) is logged in lastError and the batch is tried again after a pause, so no throw
   * ever leaves a batch in flight forever or reaches the process.
   */
  async #deliverUntilSettled(events: StoredEvent[], laneScoped: boolean): Promise<boolean> {
    for (let delay = 1_000; ; delay = Math.min(delay * 2, 30_000)) {
      try {
        return await this.#deliver(events, laneScoped);
      } catch (error) {
        if (this.#abort.signal.aborted) return false;
        this.#deps.recordProgress({ currentId: this.currentId, lastError: `delivery failed (will retry): ${(error as Error).message}`, lastErrorAt: this.#deps.now() });
        await sleep(delay, this.#abort.signal);
        if (this.#abort.signal.aborted || this.#failing || this.#draining) return false;
      }
    }
  }

  /** `laneScoped` (per-user order): a retry's wait holds back only this batch's lane, not the whole Current. */
  #deliver(events: StoredEvent[], laneScoped = false): Promise<boolean> {
    const { current, partner, settings, batching } = this.#spec;
    return deliverBatch({ current, partner, settings, requestTimeoutMs: batching.requestTimeoutMs, state: this.#state, policy: this.#deps.policy }, this.#deps, {
      signal: this.#abort.signal,
      halted: () => this.#failing || this.#draining,
      halt: () => {
        this.#failing = true;
        this.#wakeup.wake();
      },
      backoff: (until) => {
        if (!laneScoped) this.#backoffUntil = Math.max(this.#backoffUntil, until);
      },
      heldUntil: () => this.#backoffUntil,
      nap: (ms) => this.#retryWakeup.wait(ms, this.#abort.signal),
      leaseHeld: this.#deps.leaseHeld && (() => (this.#deps.leaseHeld as (id: string) => boolean)(this.#spec.unit ?? this.currentId)),
    }, events);
  }
}
