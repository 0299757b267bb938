import type { ProgressUpdate } from "../currents/model.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Collects progress updates in memory and writes them in one transaction per flush, so the
 * delivery path never waits on a commit. Losing unflushed progress in a crash only means
 * re-sending batches already delivered (at least once), never losing one.
 */
export class ProgressBuffer {
  #pending = new Map<string, Mutable<ProgressUpdate>>();

  record(u: ProgressUpdate): void {
    // A partition's position is its own; everything else is the Current's.
    const key = u.partition && u.ackedSeq !== undefined ? `${u.currentId}@${u.partition.index}` : u.currentId;
    const p = this.#pending.get(key) ?? (u.partition && u.ackedSeq !== undefined ? { currentId: u.currentId, partition: u.partition } : { currentId: u.currentId });
    if (u.ackedSeq !== undefined) p.ackedSeq = Math.max(p.ackedSeq ?? 0, u.ackedSeq);
    for (const k of ["deliveredDelta", "failedAttemptsDelta", "deadLetteredDelta", "expiredDelta", "valuesCutDelta"] as const) {
      if (u[k] !== undefined) p[k] = (p[k] ?? 0) + (u[k] as number);
    }
    if (u.lastDeliveredAt !== undefined) p.lastDeliveredAt = u.lastDeliveredAt;
    if (u.lastError !== undefined) p.lastError = u.lastError;
    if (u.lastErrorAt !== undefined) p.lastErrorAt = u.lastErrorAt;
    this.#pending.set(key, p);
  }

  /** Takes everything recorded so far. */
  take(): ProgressUpdate[] {
    const all = [...this.#pending.values()];
    this.#pending.clear();
    return all;
  }

  /** Drops what was recorded for a Current (it was deleted or restarted from the store). */
  forget(currentId: string): void {
    for (const [key, p] of this.#pending) if (p.currentId === currentId) this.#pending.delete(key);
  }
}
