import type { Logger } from "pino";
import type { AttemptRecord } from "./batch-delivery.js";

const ATTEMPTS_KEPT = 200;

/**
 * The recent attempts of each Current (the last 200, in memory, per process), for
 * `GET /api/v1/currents/{id}/attempts`; every attempt is also passed on (metrics, charts) and
 * every failed one logged with its Current.
 */
export class AttemptLog {
  readonly #attempts = new Map<string, AttemptRecord[]>();

  constructor(private readonly logger: Logger, private readonly onAttempt?: (currentId: string, attempt: AttemptRecord) => void) {}

  record(currentId: string, attempt: AttemptRecord): void {
    let list = this.#attempts.get(currentId);
    if (!list) this.#attempts.set(currentId, (list = []));
    list.push(attempt);
    if (list.length > ATTEMPTS_KEPT) list.splice(0, list.length - ATTEMPTS_KEPT);
    this.onAttempt?.(currentId, attempt);
    if (attempt.error) {
      this.logger.warn({ currentId, idempotencyKey: attempt.idempotencyKey, status: attempt.status, outcome: attempt.outcome, error: attempt.error }, "delivery attempt failed");
    }
  }

  recent(currentId: string): readonly AttemptRecord[] {
    return this.#attempts.get(currentId) ?? [];
  }

  forget(currentId: string): void {
    this.#attempts.delete(currentId);
  }
}
