import { pendingOf } from "../currents/pending.js";
import type { Logger } from "pino";
import type { Store } from "./port.js";

export interface RetentionOptions {
  readonly store: Store;
  readonly logger: Logger;
  readonly retentionMs: number;
  readonly dedupeWindowMs: number;
  readonly now: () => number;
  /** Called before expired events are deleted, so buffered progress is in the store. */
  readonly beforeSweep?: () => Promise<void>;
}

const CHUNK = 50_000;

/**
 * One retention sweep. Events older than the retention window are removed whether or not
 * they were delivered (SPEC section 5: events wait up to the retention window); for every
 * Current that had not delivered them, how many went is added to its `expired` count, so
 * nothing disappears silently. Event ids leave the dedupe window after `dedupeWindowMs`.
 */
export async function sweepRetention(o: RetentionOptions): Promise<{ deleted: number; expired: number; forgottenIds: number }> {
  await o.beforeSweep?.();
  const now = o.now();
  const cutoffSeq = await o.store.events.seqBefore(now - o.retentionMs);
  let expired = 0;
  if (cutoffSeq > 0) {
    for (const c of await o.store.config.listCurrents()) {
      if (c.status === "draft") continue;
      const p = await o.store.config.getProgress(c.id);
      if (!p || p.ackedSeq >= cutoffSeq) continue;
      const { count } = await pendingOf(o.store, c, p.ackedSeq, cutoffSeq);
      await o.store.config.updateProgress([{ currentId: c.id, ackedSeq: cutoffSeq, expiredDelta: count }]);
      if (count > 0) {
        expired += count;
        o.logger.warn({ currentId: c.id, expired: count }, "retention removed events this Current had not delivered");
      }
    }
  }
  let deleted = 0;
  for (let n = CHUNK; n === CHUNK && cutoffSeq > 0; ) {
    n = await o.store.events.deleteUpTo(cutoffSeq, CHUNK);
    deleted += n;
    await new Promise((r) => setImmediate(r));
  }
  let forgottenIds = 0;
  for (let n = CHUNK; n === CHUNK; ) {
    n = await o.store.events.pruneDedupe(now - o.dedupeWindowMs, CHUNK);
    forgottenIds += n;
    await new Promise((r) => setImmediate(r));
  }
  if (deleted > 0 || forgottenIds > 0) o.logger.info({ deleted, expired, forgottenIds }, "retention sweep");
  return { deleted, expired, forgottenIds };
}

export interface RecordRetention {
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => number;
  readonly deadLetterRetentionMs: number;
  readonly historyRetentionMs: number;
  readonly auditRetentionMs: number;
  readonly attemptRetentionMs: number;
}

/**
 * Dead letters, status history, audit rows and attempts have retention windows of their own
 * (30, 90, 365 and 7 days by default), so months of traffic do not grow them without bound. A dead
 * letter that ages out is added to its Current's `expired` count (never silently gone).
 */
export async function sweepRecords(o: RecordRetention): Promise<{ deadLetters: number; history: number; audit: number; attempts: number }> {
  const now = o.now();
  let deadLetters = 0;
  for (let more = true; more; ) {
    const gone = await o.store.deadLetters.pruneBefore(now - o.deadLetterRetentionMs, CHUNK);
    const n = gone.reduce((sum, g) => sum + g.count, 0);
    if (n > 0) await o.store.config.updateProgress(gone.map((g) => ({ currentId: g.currentId, expiredDelta: g.count })));
    deadLetters += n;
    more = n === CHUNK;
  }
  let history = 0;
  for (let n = CHUNK; n === CHUNK; history += n) n = await o.store.config.pruneHistory(now - o.historyRetentionMs, CHUNK);
  let audit = 0;
  for (let n = CHUNK; n === CHUNK; audit += n) n = await o.store.config.pruneAudit(now - o.auditRetentionMs, CHUNK);
  let attempts = 0;
  for (let n = CHUNK; n === CHUNK; attempts += n) n = await o.store.attempts.pruneBefore(now - o.attemptRetentionMs, CHUNK);
  if (deadLetters + history + audit + attempts > 0) o.logger.info({ deadLetters, history, audit, attempts }, "retention of dead letters, history, audit and attempts");
  return { deadLetters, history, audit, attempts };
}
