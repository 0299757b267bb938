import type { Logger } from "pino";
import { type Config, endpointPolicy } from "../config.js";
import type { CurrentRecord } from "../currents/model.js";
import { partnerById } from "../partners/registry.js";
import type { ResolvedSettings } from "../partners/define-partner.js";
import type { Store } from "../store/port.js";
import type { AttemptResult } from "./attempt-outcome.js";
import type { BatchTarget, DeliveryDeps } from "./batch-delivery.js";
import { type AttemptRecord, CurrentWorker } from "./current-worker.js";
import type { JobProgress } from "./range-jobs.js";
import { AttemptLog } from "./attempt-log.js";
import { OneOffJobs } from "./one-off-jobs.js";
import { HttpSender } from "./http-sender.js";
import { Ownership } from "./ownership.js";
import { ProgressBuffer } from "./progress-buffer.js";
import type { RetryPolicy } from "./retry-policy.js";

export interface DeliveryEngineOptions {
  readonly store: Store;
  readonly config: Config;
  readonly logger: Logger;
  /** Decrypts a Current's secret settings and merges them with the others. */
  readonly resolveSettings: (current: CurrentRecord) => ResolvedSettings;
  /** Called when a partner refuses a Current's credentials or URL. */
  readonly onFailing: (currentId: string, reason: string) => void;
  /** Called after every attempt (metrics). */
  readonly onAttempt?: (currentId: string, attempt: AttemptRecord) => void;
  /** Called when events of a Current became dead letters. */
  readonly onDeadLetters?: (currentId: string, count: number) => void;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly retryPolicy?: RetryPolicy;
  /** How often buffered progress is written. @defaultValue 200 */
  readonly progressFlushMs?: number;
}


/** JetStream mode: the unit of work of a Current's partition (its lease is `current:<unit>`). */
const unitOf = (currentId: string, partition: number): string => `${currentId}@${partition}`;

/**
 * Runs one CurrentWorker per active Current (JetStream mode: per (Current, partition) this
 * process holds), wakes them when events arrive, and writes their progress. Isolation: each
 * worker has its own loop, batches and backoff, so a dead or slow endpoint only ever holds
 * its own Current's slots.
 */
export class DeliveryEngine {
  readonly #o: DeliveryEngineOptions;
  readonly #workers = new Map<string, CurrentWorker>();
  readonly #byWorkspace = new Map<string, Set<CurrentWorker>>();
  readonly #attempts: AttemptLog;
  readonly #progress = new ProgressBuffer();
  readonly #sender: HttpSender;
  readonly #now: () => number;
  readonly #jobs: OneOffJobs;
  readonly #ownership: Ownership;
  #flushTimer: NodeJS.Timeout | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  #serial: Promise<unknown> = Promise.resolve();
  #persisting: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(options: DeliveryEngineOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#sender = new HttpSender({ policy: endpointPolicy(options.config) });
    this.#ownership = new Ownership({ store: options.store, leaseMs: options.config.leaseMs, logger: options.logger, now: this.#now, unitsOf: (id) => this.#unitsOf(id) });
    this.#attempts = new AttemptLog(options.logger, options.store.attempts, options.onAttempt);
    this.#jobs = new OneOffJobs({
      store: options.store, sender: this.#sender, now: this.#now, target: (c) => this.#target(c), batchSize: (c) => this.#batchSize(c),
      deps: () => this.#deps(), onJobEnd: () => void this.flushProgress(),
    });
  }

  /** Which process delivers which Current (leases), and the leases of periodic jobs. */
  get ownership(): Ownership {
    return this.#ownership;
  }

  /** The units of work of a Current: itself, or one per partition of the JetStream log. */
  #unitsOf(currentId: string): string[] {
    const n = this.#o.store.partitions;
    return n ? Array.from({ length: n }, (_, p) => unitOf(currentId, p)) : [currentId];
  }

  /** This process's workers of a Current (one, or in JetStream mode those of the partitions it holds). */
  #workersOf(currentId: string): string[] {
    return this.#o.store.partitions ? this.#unitsOf(currentId).filter((u) => this.#workers.has(u)) : this.#workers.has(currentId) ? [currentId] : [];
  }

  /** True when this process delivers the Current (or some of its partitions) now. */
  delivers(currentId: string): boolean {
    return this.#workersOf(currentId).length > 0;
  }

  async start(): Promise<void> {
    await this.#sync();
    // Every second: a Current paused or changed through another process stops or restarts here within ~1 s.
    this.#syncTimer = setInterval(() => {
      this.#sync().catch((err: unknown) => this.#o.logger.error({ err }, "lease sync failed; it runs again in a second"));
    }, Math.min(1_000, this.#o.config.leaseMs / 3));
    this.#syncTimer.unref();
    this.#flushTimer = setInterval(() => void this.flush(), this.#o.progressFlushMs ?? 200);
    this.#flushTimer.unref();
  }

  /** One lease change at a time (the periodic sync, or a Current changed here). */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(fn, fn);
    this.#serial = run.catch(() => undefined);
    return run;
  }

  #sync(): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#stopped) return;
      await this.#ownership.sync({
        running: () => new Map([...this.#workers].map(([id, w]) => [id, w.current])),
        startWorker: (c, unit) => this.#startWorker(c, unit),
        stopWorker: (id, graceMs) => this.#stopWorker(id, graceMs),
        startFailed: (id, error) => this.#startFailed(id, error),
      });
    });
  }

  /** Events were stored for this workspace. */
  notifyAppended(workspace: string): void {
    for (const w of this.#byWorkspace.get(workspace) ?? []) w.wake();
  }

  /**
   * (Re)starts or stops the worker of a Current after it changed. A failure here (the store
   * unreachable, a worker that cannot start) is logged and shown in the Current's
   * `lastError`; the periodic lease sync tries again.
   */
  async refresh(currentId: string): Promise<void> {
    if (this.#o.store.partitions) {
      // Its partitions are spread over the live processes by the lease sync, run now.
      await this.#exclusive(async () => {
        for (const unit of this.#workersOf(currentId)) await this.#stopWorker(unit);
        const current = await this.#o.store.config.getCurrent(currentId);
        if (current?.status !== "active") for (const unit of this.#unitsOf(currentId)) await this.#ownership.release(unit);
      }).catch((error: unknown) => this.#startFailed(currentId, error));
      await this.#sync();
      return;
    }
    await this.#exclusive(async () => {
      await this.#stopWorker(currentId);
      if (this.#stopped) return;
      const current = await this.#o.store.config.getCurrent(currentId);
      if (current?.status === "active" && (await this.#ownership.claim(currentId))) await this.#startOrRelease(current, currentId);
      else if (current?.status !== "active") await this.#ownership.release(currentId);
    }).catch((error: unknown) => this.#startFailed(currentId, error));
  }

  /** Starts a worker whose lease was just claimed; when it cannot start, lets the lease go. */
  async #startOrRelease(current: CurrentRecord, unit: string): Promise<void> {
    try {
      await this.#startWorker(current, unit);
    } catch (error) {
      await this.#ownership.release(unit).catch(() => undefined);
      throw error;
    }
  }

  #startFailed(currentId: string, error: unknown): void {
    const message = `could not start delivery: ${(error as Error).message}`;
    this.#o.logger.error({ currentId, err: { message: (error as Error).message } }, "could not start a Current's delivery; will try again");
    this.#progress.record({ currentId, lastError: message, lastErrorAt: this.#now() });
  }

  /** Forgets a deleted Current (its row is already gone). */
  async remove(currentId: string): Promise<void> {
    await this.#exclusive(async () => {
      for (const unit of this.#unitsOf(currentId)) {
        await this.#stopWorker(unit);
        await this.#ownership.forget(unit);
      }
    });
    await this.#jobs.forget(currentId);
    this.#progress.forget(currentId);
  }

  /** Writes buffered progress and the attempt log (what a reader of either wants first). */
  async flush(): Promise<void> {
    await Promise.all([this.#attempts.flush(), this.flushProgress()]);
  }

  /** Writes buffered progress only (server mode frees a batch's slot after this: kept to one statement). */
  async flushProgress(): Promise<void> {
    const updates = this.#progress.take();
    if (updates.length === 0) return;
    try {
      await this.#o.store.config.updateProgress(updates);
    } catch (error) {
      for (const u of updates) this.#progress.record(u);
      this.#o.logger.error({ err: error }, "could not write delivery progress; will retry");
    }
  }

  /** Stops every worker (in-flight batches get `graceMs` to settle) and writes progress. */
  async stop(graceMs = 5_000): Promise<void> {
    this.#stopped = true;
    if (this.#flushTimer) clearInterval(this.#flushTimer);
    if (this.#syncTimer) clearInterval(this.#syncTimer);
    await this.#serial;
    const owned = [...this.#workers.keys()];
    await Promise.all([this.#jobs.stopAll(), ...owned.map((id) => this.#stopWorker(id, graceMs))]);
    await this.flush();
    await this.#ownership.releaseAll(owned);
    await this.#sender.close();
  }

  /** Throws when the worker cannot start (unknown partner, secrets that do not open, no progress row). */
  async #startWorker(current: CurrentRecord, unit: string = current.id): Promise<void> {
    if (this.#workers.has(unit)) return;
    const partner = partnerById(current.partner);
    if (!partner) throw new Error(`unknown partner "${current.partner}" (written by a newer Currents?)`);
    const settings = this.#o.resolveSettings(current);
    await this.flushProgress();
    const progress = await this.#o.store.config.getProgress(current.id);
    // No progress row: the Current is being deleted. Starting at seq 0 would resend the whole log.
    if (!progress) throw new Error("the Current has no delivery position (deleted?)");
    const partitions = this.#o.store.partitions;
    const partition = partitions && unit !== current.id ? { index: Number(unit.slice(unit.lastIndexOf("@") + 1)), of: partitions } : undefined;
    // A partition resumes from its own position, or from the Current's (the lowest of them, or where it was launched).
    const startSeq = partition
      ? Math.max(progress.ackedSeq, (await this.#o.store.config.partitionPositions?.(current.id))?.get(partition.index) ?? 0)
      : progress.ackedSeq;
    const d = this.#o.config.delivery;
    const b = current.batching;
    const pb = partner.batching?.(settings) ?? {};
    const worker = new CurrentWorker(
      {
        current,
        partner,
        settings,
        batching: {
          maxBatchEvents: Math.min(b.maxBatchEvents ?? pb.maxBatchEvents ?? d.maxBatchEvents, partner.limits.maxBatchEvents),
          maxBatchBytes: Math.min(b.maxBatchBytes ?? pb.maxBatchBytes ?? d.maxBatchBytes, partner.limits.maxBatchBytes),
          lingerMs: b.lingerMs ?? pb.lingerMs ?? d.lingerMs,
          fill: b.fill ?? pb.fill ?? false,
          maxInFlight: b.maxInFlight ?? d.maxInFlight,
          requestTimeoutMs: b.requestTimeoutMs ?? d.requestTimeoutMs,
          ordering: b.ordering ?? "none",
        },
        startSeq,
        partition,
        unit,
      },
      {
        ...this.#deps(),
        ...(partition ? { recordAttempt: (id: string, a: AttemptRecord) => this.#attempts.record(id, { ...a, partition: partition.index }) } : {}),
        events: this.#o.store.events,
        // Server mode: another process takes over from the written position after a crash,
        // so a batch's slot is freed only once its position is written.
        persistProgress: this.#o.store.kind !== "sqlite" ? () => (this.#persisting = this.#persisting.then(() => this.flushProgress())) : undefined,
        leaseHeld: (id) => this.#ownership.holds(id),
        rateWindowMs: this.#o.config.rateWindowMs,
        policy: endpointPolicy(this.#o.config),
      },
    );
    this.#workers.set(unit, worker);
    let set = this.#byWorkspace.get(current.workspace);
    if (!set) this.#byWorkspace.set(current.workspace, (set = new Set()));
    set.add(worker);
    worker.start();
  }

  #deps(): DeliveryDeps {
    return {
      addDeadLetters: async (letters, options) => {
        const added = await this.#o.store.deadLetters.add(letters, options);
        const first = letters[0];
        if (first && added > 0) this.#o.onDeadLetters?.(first.currentId, added);
      },
      send: (req, timeoutMs, signal) => this.#sender.send(req, timeoutMs, signal),
      recordProgress: (u) => this.#progress.record(u),
      recordAttempt: (id, a) => this.#attempts.record(id, a),
      onFailing: (id, reason) => this.#o.onFailing(id, reason),
      now: this.#now,
      random: this.#o.random ?? Math.random,
      retryPolicy: this.#o.retryPolicy,
    };
  }

  #target(current: CurrentRecord): BatchTarget {
    const partner = partnerById(current.partner);
    if (!partner) throw new Error(`unknown partner ${current.partner}`);
    const timeout = current.batching.requestTimeoutMs ?? this.#o.config.delivery.requestTimeoutMs;
    return { current, partner, settings: this.#o.resolveSettings(current), requestTimeoutMs: timeout, policy: endpointPolicy(this.#o.config) };
  }

  #batchSize(current: CurrentRecord): number {
    const partner = partnerById(current.partner);
    return Math.min(current.batching.maxBatchEvents ?? this.#o.config.delivery.maxBatchEvents, partner?.limits.maxBatchEvents ?? 100);
  }

  /** Events a partner's rate limit holds back now in this process's worker of the Current. */
  held(currentId: string): number {
    return this.#workersOf(currentId).reduce((n, unit) => n + (this.#workers.get(unit)?.held ?? 0), 0);
  }

  /** When this process's next attempt for the Current is due, while it waits to retry. */
  retryAt(currentId: string): number | undefined {
    const due = this.#workersOf(currentId).map((u) => this.#workers.get(u)?.retryAt).filter((t): t is number => t !== undefined);
    return due.length > 0 ? Math.min(...due) : undefined;
  }

  /** "Retry now": ends the Current's retry waits here; false when this process does not deliver it. */
  retryNow(currentId: string): boolean {
    const units = this.#workersOf(currentId);
    for (const u of units) this.#workers.get(u)?.retryNow();
    return units.length > 0;
  }

  /** Cancels the Current's running replay or redrive; undefined when none runs here. */
  cancelJob(currentId: string): JobProgress | undefined {
    return this.#jobs.cancel(currentId);
  }

  /** The Currents this process delivers now (JetStream mode: some of their partitions at least). */
  delivered(): string[] {
    return [...new Set([...this.#workers.values()].map((w) => w.currentId))];
  }

  // The connection check, Send Test Events, replay and redrive (see one-off-jobs.ts).
  connectionCheck(current: CurrentRecord, settings?: ResolvedSettings): Promise<AttemptResult> {
    return this.#jobs.connectionCheck(current, settings);
  }

  sendTestEvents(current: CurrentRecord): Promise<{ events: number; result: AttemptResult }> {
    return this.#jobs.sendTestEvents(current);
  }

  job(currentId: string): JobProgress | undefined {
    return this.#jobs.job(currentId);
  }

  startReplay(current: CurrentRecord, fromSeq: number, toSeq: number): Promise<JobProgress> {
    return this.#jobs.startReplay(current, fromSeq, toSeq);
  }

  startRedrive(current: CurrentRecord, ids?: readonly number[]): Promise<JobProgress> {
    return this.#jobs.startRedrive(current, ids);
  }

  async #stopWorker(currentId: string, graceMs = 0): Promise<void> {
    const worker = this.#workers.get(currentId);
    if (!worker) return;
    this.#workers.delete(currentId);
    for (const set of this.#byWorkspace.values()) set.delete(worker);
    await worker.stop(graceMs);
    await this.flushProgress();
  }
}

export { JobBusyError } from "./one-off-jobs.js";
