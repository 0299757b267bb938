import { slotOf, userKeyOf } from "../catalog/user-key.js";
import type { AttemptRow, Store, StoredEvent } from "../store/port.js";
import type { CurrentRecord } from "./model.js";

export type TraceState = "delivered" | "pending" | "dead_lettered" | "before_launch";

/** What became of one event in one Current that selects its type. */
export interface EventTrace {
  readonly currentId: string;
  readonly currentName: string;
  readonly state: TraceState;
  /** delivered: when the partner took it (null when its attempt is older than the attempt log keeps). */
  readonly deliveredAt: number | null;
  /** pending: waiting since it was accepted. */
  readonly pendingSince: number | null;
  readonly deadLetter: { readonly id: number; readonly reason: string; readonly status: number | null; readonly excerpt: string; readonly at: number } | null;
  /** Every kept attempt of a batch that held the event (retries, bisection, replays), oldest first. */
  readonly attempts: readonly AttemptRow[];
}

const DELIVERED = (a: AttemptRow) => a.outcome === "delivered" || a.outcome.startsWith("partial");

/**
 * Where one event stands in each Current of its workspace that selects its type: delivered
 * (in which attempt), pending (since when, and the tries so far), dead-lettered (why), or
 * accepted before the Current was launched. Attempt ranges hold every selected event between
 * the batch's first and last, so the attempts shown are those of the batches that held it.
 */
export async function traceEvent(store: Store, currents: readonly CurrentRecord[], e: StoredEvent, parsed: unknown): Promise<EventTrace[]> {
  const selecting = currents.filter((c) => c.status !== "draft" && c.events.includes(e.type));
  const partition = store.partitions ? slotOf(userKeyOf(parsed), store.partitions) : null;
  return Promise.all(selecting.map(async (c): Promise<EventTrace> => {
    const base = { currentId: c.id, currentName: c.name, deliveredAt: null, pendingSince: null, deadLetter: null };
    const [attempts, letters, progress, positions] = await Promise.all([
      store.attempts.covering(c.id, e.seq, partition),
      store.deadLetters.bySeq(c.id, e.seq),
      store.config.getProgress(c.id),
      partition !== null ? store.config.partitionPositions?.(c.id) : undefined,
    ]);
    const letter = letters[letters.length - 1];
    if (letter) {
      return { ...base, state: "dead_lettered", attempts, deadLetter: { id: letter.id, reason: letter.reason, status: letter.status, excerpt: letter.excerpt, at: letter.createdAt } };
    }
    const delivered = [...attempts].reverse().find(DELIVERED);
    if (c.launchedAt !== null && e.receivedAt < c.launchedAt && !delivered) return { ...base, state: "before_launch", attempts };
    const position = Math.max(progress?.ackedSeq ?? 0, partition !== null ? (positions?.get(partition) ?? 0) : 0);
    if (e.seq > position && !delivered) return { ...base, state: "pending", pendingSince: e.receivedAt, attempts };
    return { ...base, state: "delivered", deliveredAt: delivered?.at ?? null, attempts };
  }));
}
