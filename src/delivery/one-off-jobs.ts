import { randomUUID } from "node:crypto";
import { sampleEvent } from "../catalog/sample-event.js";
import type { CurrentRecord } from "../currents/model.js";
import type { ResolvedSettings } from "../partners/define-partner.js";
import type { Store } from "../store/port.js";
import type { AttemptResult } from "./attempt-outcome.js";
import type { BatchTarget, DeliveryDeps } from "./batch-delivery.js";
import type { HttpSender } from "./http-sender.js";
import { type JobProgress, type RedriveSelection, runRedrive, runReplay } from "./range-jobs.js";
import { applyTransformations } from "./transformations.js";

export interface OneOffJobsOptions {
  readonly store: Store;
  readonly sender: HttpSender;
  readonly now: () => number;
  /** The Current's partner, settings and limits, ready to send. */
  readonly target: (current: CurrentRecord) => BatchTarget;
  readonly batchSize: (current: CurrentRecord) => number;
  readonly deps: () => DeliveryDeps;
  /** Called when a job ends (its progress is written). */
  readonly onJobEnd: () => void;
}

/**
 * What a user asks a Current to do once, beside its live delivery: the connection check,
 * Send Test Events, replay of a time range, and redrive of dead letters. One replay or
 * redrive at a time per Current; their progress is kept for `stats.job`.
 */
export class OneOffJobs {
  readonly #jobs = new Map<string, { progress: JobProgress; abort: AbortController; done: Promise<void> }>();

  constructor(private readonly o: OneOffJobsOptions) {}

  /** The connection check: `{"events":[]}` with the credentials. */
  async connectionCheck(current: CurrentRecord, settings?: ResolvedSettings): Promise<AttemptResult> {
    const t = settings ? { ...this.o.target({ ...current, secretsEnc: null }), settings } : this.o.target(current);
    const batch = { bodies: [], idempotencyKey: `${current.id}:check:${this.o.now()}` };
    if (t.partner.deliver) return t.partner.deliver(batch, t.settings, AbortSignal.timeout(t.requestTimeoutMs), current, t.policy ?? { allowPrivate: false });
    return this.o.sender.send(t.partner.buildRequest(batch, t.settings, this.o.now()), t.requestTimeoutMs);
  }

  /** Send Test Events: one sample of each selected type, marked as a test, in one request. */
  async sendTestEvents(current: CurrentRecord): Promise<{ events: number; result: AttemptResult }> {
    const t = this.o.target(current);
    const now = this.o.now();
    const bodies = current.events.map((type, n) => {
      const sample = sampleEvent(type, { id: `currents-test-${randomUUID()}`, n, time: Math.floor(now / 1000), extraProperties: { currents_test_event: true } });
      // e.g. Heap's server-side API: test events go to a test identity, not to a real user.
      const event = t.partner.testEvent ? t.partner.testEvent(sample, t.settings) : sample;
      return applyTransformations(JSON.stringify(event), current.transformations);
    });
    let result: AttemptResult;
    try {
      const batch = { bodies, idempotencyKey: `${current.id}:test:${now}`, events: bodies.map((_, i) => ({ seq: i, receivedAt: now })) };
      result = t.partner.deliver
        ? await t.partner.deliver(batch, t.settings, AbortSignal.timeout(t.requestTimeoutMs), current, t.policy ?? { allowPrivate: false })
        : await this.o.sender.send(t.partner.buildRequest(batch, t.settings, now), t.requestTimeoutMs);
    } catch (error) {
      // e.g. a transformation removed the field Heap's identity is read from.
      result = { kind: "error", error: `the test events cannot be encoded: ${(error as Error).message}`, refused: false, latencyMs: 0 };
    }
    this.o.deps().recordAttempt(current.id, {
      at: this.o.now(), events: bodies.length, status: result.kind === "answered" ? result.status : null, latencyMs: result.latencyMs,
      outcome: "test", error: result.kind === "answered" ? (result.status < 300 ? null : `HTTP ${result.status}`) : result.error,
    });
    return { events: bodies.length, result };
  }

  /** Replay or redrive in progress (or the last one) for a Current. */
  job(currentId: string): JobProgress | undefined {
    return this.#jobs.get(currentId)?.progress;
  }

  /** Starts re-sending the Current's retained events with seq in (fromSeq, toSeq]. */
  async startReplay(current: CurrentRecord, fromSeq: number, toSeq: number): Promise<JobProgress> {
    const total = (await this.o.store.events.count({ workspace: current.workspace, types: current.events }, fromSeq, toSeq)).count;
    return this.#start(current, "replay", total, (control, progress) =>
      runReplay(this.o.target(current), this.o.deps(), this.o.store.events, control, { fromSeq, toSeq, batchSize: this.o.batchSize(current), replayId: randomUUID().slice(0, 8) }, progress));
  }

  /** Starts sending dead letters again: the chosen ones, or all held now. */
  async startRedrive(current: CurrentRecord, ids?: readonly number[]): Promise<JobProgress> {
    const letters = this.o.store.deadLetters;
    let selection: RedriveSelection;
    let total: number;
    if (ids) {
      selection = { ids };
      total = ids.length;
    } else {
      total = await letters.count(current.id);
      // The newest letter held now: found by paging ids only (no bodies), a page at a time.
      let newest = 0;
      for (let page = await letters.ids(current.id, 10_000); page.length > 0; page = await letters.ids(current.id, 10_000, newest)) newest = page[page.length - 1] as number;
      selection = { allUpTo: newest };
    }
    return this.#start(current, "redrive", total, (control, progress) =>
      runRedrive(this.o.target(current), this.o.deps(), letters, control, selection, this.o.batchSize(current), progress));
  }

  #start(current: CurrentRecord, kind: JobProgress["kind"], total: number, run: (c: { signal: AbortSignal; halted(): boolean; halt(): void }, p: JobProgress) => Promise<void>): JobProgress {
    const running = this.#jobs.get(current.id);
    if (running?.progress.state === "running") throw new JobBusyError(`a ${running.progress.kind} is already running for this Current`);
    const progress: JobProgress = { kind, state: "running", total, sent: 0, startedAt: this.o.now(), finishedAt: null, detail: null };
    const abort = new AbortController();
    let halted = false;
    const done = run({ signal: abort.signal, halted: () => halted, halt: () => { halted = true; } }, progress)
      .catch((error: unknown) => {
        progress.state = "stopped";
        progress.detail = (error as Error).message;
      })
      .finally(() => this.o.onJobEnd());
    this.#jobs.set(current.id, { progress, abort, done });
    return progress;
  }

  /** Cancels a running job: what was sent stays sent, the rest is not. */
  cancel(currentId: string): JobProgress | undefined {
    const job = this.#jobs.get(currentId);
    if (job?.progress.state !== "running") return undefined;
    job.abort.abort();
    job.progress.state = "stopped";
    job.progress.detail = "cancelled";
    job.progress.finishedAt = this.o.now();
    return job.progress;
  }

  /** Stops a Current's job (it was deleted) and forgets it. */
  async forget(currentId: string): Promise<void> {
    const job = this.#jobs.get(currentId);
    job?.abort.abort();
    await job?.done;
    this.#jobs.delete(currentId);
  }

  async stopAll(): Promise<void> {
    for (const job of this.#jobs.values()) job.abort.abort();
    await Promise.all([...this.#jobs.values()].map((j) => j.done));
  }
}

export class JobBusyError extends Error {
  override readonly name = "JobBusyError";
}
