import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { CurrentRecord } from "../currents/model.js";
import { partnerById } from "../partners/registry.js";
import type { ResolvedSettings } from "../partners/define-partner.js";
import type { Store } from "../store/port.js";
import { type AttemptRecord, CurrentWorker } from "./current-worker.js";
import { HttpSender } from "./http-sender.js";
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
  readonly now?: () => number;
  readonly random?: () => number;
  readonly retryPolicy?: RetryPolicy;
  /** How often buffered progress is written. @defaultValue 200 */
  readonly progressFlushMs?: number;
}

const ATTEMPTS_KEPT = 200;

/**
 * Runs one CurrentWorker per active Current, wakes them when events arrive, and writes
 * their progress. Isolation: each worker has its own loop, batches and backoff, so a dead
 * or slow endpoint only ever holds its own Current's slots.
 */
export class DeliveryEngine {
  readonly #o: DeliveryEngineOptions;
  readonly #workers = new Map<string, CurrentWorker>();
  readonly #byWorkspace = new Map<string, Set<CurrentWorker>>();
  readonly #attempts = new Map<string, AttemptRecord[]>();
  readonly #progress = new ProgressBuffer();
  readonly #sender: HttpSender;
  readonly #now: () => number;
  #flushTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: DeliveryEngineOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#sender = new HttpSender({ allowPrivateEndpoints: options.config.allowPrivateEndpoints });
  }

  async start(): Promise<void> {
    for (const c of await this.#o.store.config.listCurrents()) {
      if (c.status === "active") await this.#startWorker(c);
    }
    this.#flushTimer = setInterval(() => void this.flushProgress(), this.#o.progressFlushMs ?? 200);
    this.#flushTimer.unref();
  }

  /** Events were stored for this workspace. */
  notifyAppended(workspace: string): void {
    for (const w of this.#byWorkspace.get(workspace) ?? []) w.wake();
  }

  /** (Re)starts or stops the worker of a Current after it changed. */
  async refresh(currentId: string): Promise<void> {
    await this.#stopWorker(currentId);
    if (this.#stopped) return;
    const current = await this.#o.store.config.getCurrent(currentId);
    if (current?.status === "active") await this.#startWorker(current);
  }

  /** Forgets a deleted Current. */
  async remove(currentId: string): Promise<void> {
    await this.#stopWorker(currentId);
    this.#progress.forget(currentId);
    this.#attempts.delete(currentId);
  }

  attempts(currentId: string): readonly AttemptRecord[] {
    return this.#attempts.get(currentId) ?? [];
  }

  isRunning(currentId: string): boolean {
    return this.#workers.has(currentId);
  }

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
    await Promise.all([...this.#workers.keys()].map((id) => this.#stopWorker(id, graceMs)));
    await this.flushProgress();
    await this.#sender.close();
  }

  async #startWorker(current: CurrentRecord): Promise<void> {
    const partner = partnerById(current.partner);
    if (!partner) {
      this.#o.logger.error({ currentId: current.id, partner: current.partner }, "unknown partner; Current not started");
      return;
    }
    await this.flushProgress();
    const progress = await this.#o.store.config.getProgress(current.id);
    const d = this.#o.config.delivery;
    const b = current.batching;
    const worker = new CurrentWorker(
      {
        current,
        partner,
        settings: this.#o.resolveSettings(current),
        batching: {
          maxBatchEvents: Math.min(b.maxBatchEvents ?? d.maxBatchEvents, partner.limits.maxBatchEvents),
          maxBatchBytes: Math.min(b.maxBatchBytes ?? d.maxBatchBytes, partner.limits.maxBatchBytes),
          lingerMs: b.lingerMs ?? d.lingerMs,
          maxInFlight: b.maxInFlight ?? d.maxInFlight,
          requestTimeoutMs: b.requestTimeoutMs ?? d.requestTimeoutMs,
        },
        startSeq: progress?.ackedSeq ?? 0,
      },
      {
        events: this.#o.store.events,
        addDeadLetters: (letters) => this.#o.store.deadLetters.add(letters),
        send: (req, timeoutMs, signal) => this.#sender.send(req, timeoutMs, signal),
        recordProgress: (u) => this.#progress.record(u),
        recordAttempt: (id, a) => this.#recordAttempt(id, a),
        onFailing: (id, reason) => this.#o.onFailing(id, reason),
        now: this.#now,
        random: this.#o.random ?? Math.random,
        retryPolicy: this.#o.retryPolicy,
      },
    );
    this.#workers.set(current.id, worker);
    let set = this.#byWorkspace.get(current.workspace);
    if (!set) this.#byWorkspace.set(current.workspace, (set = new Set()));
    set.add(worker);
    worker.start();
  }

  async #stopWorker(currentId: string, graceMs = 0): Promise<void> {
    const worker = this.#workers.get(currentId);
    if (!worker) return;
    this.#workers.delete(currentId);
    for (const set of this.#byWorkspace.values()) set.delete(worker);
    await worker.stop(graceMs);
    await this.flushProgress();
  }

  #recordAttempt(currentId: string, attempt: AttemptRecord): void {
    let list = this.#attempts.get(currentId);
    if (!list) this.#attempts.set(currentId, (list = []));
    list.push(attempt);
    if (list.length > ATTEMPTS_KEPT) list.splice(0, list.length - ATTEMPTS_KEPT);
    if (attempt.error) this.#o.logger.warn({ currentId, status: attempt.status, outcome: attempt.outcome, error: attempt.error }, "delivery attempt failed");
  }
}
