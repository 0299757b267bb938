import type { Logger } from "pino";
import type { AttemptRow, AttemptStore } from "../store/port.js";
import type { AttemptRecord } from "./batch-delivery.js";

/** Attempts waiting to be written at most; beyond, the oldest are dropped (and said so in the log). */
const PENDING_MAX = 20_000;

/**
 * Every delivery attempt goes to the store's attempt log (written in groups, every flush),
 * is passed on (metrics, charts), and, when it failed, logged with its Current. Attempts
 * made in the last flush interval before a crash are the only ones that can be missing.
 */
export class AttemptLog {
  #pending: Array<Omit<AttemptRow, "id">> = [];
  #dropped = 0;

  constructor(
    private readonly logger: Logger,
    private readonly store: AttemptStore,
    private readonly onAttempt?: (currentId: string, attempt: AttemptRecord) => void,
  ) {}

  record(currentId: string, a: AttemptRecord): void {
    this.#pending.push({
      currentId, at: a.at, partition: a.partition ?? null, firstSeq: a.firstSeq ?? 0, lastSeq: a.lastSeq ?? 0, events: a.events,
      attempt: a.attempt ?? 1, status: a.status, latencyMs: a.latencyMs, outcome: a.outcome, error: a.error, excerpt: a.excerpt ?? "", idempotencyKey: a.idempotencyKey ?? null,
    });
    if (this.#pending.length > PENDING_MAX) {
      this.#dropped += this.#pending.length - PENDING_MAX;
      this.#pending.splice(0, this.#pending.length - PENDING_MAX);
    }
    this.onAttempt?.(currentId, a);
    if (a.error) {
      this.logger.warn({ currentId, idempotencyKey: a.idempotencyKey, status: a.status, outcome: a.outcome, error: a.error }, "delivery attempt failed");
    }
  }

  /** Writes the attempts made since the last flush; kept for the next one when the store refuses. */
  async flush(): Promise<void> {
    if (this.#dropped > 0) {
      this.logger.error({ dropped: this.#dropped }, "the store could not take the attempt log for a while; the oldest attempts were not kept");
      this.#dropped = 0;
    }
    const rows = this.#pending;
    if (rows.length === 0) return;
    this.#pending = [];
    try {
      await this.store.add(rows);
    } catch (error) {
      this.#pending = rows.concat(this.#pending);
      this.logger.error({ err: error }, "could not write the attempt log; will retry");
    }
  }
}
