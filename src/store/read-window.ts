import type { ReadEventsQuery, ReadEventsResult, StoredEvent } from "./port.js";

/**
 * The rule every adapter's `read` follows: a read looks at seqs (afterSeq, upper], where
 * upper is at most `scanLimit` past afterSeq and never past the head. When it returns
 * `limit` events it stops at the last one (the rest of the window is not looked at yet);
 * otherwise the whole window was looked at.
 */
export function readUpper(q: ReadEventsQuery, head: number): number {
  return Math.max(q.afterSeq, Math.min(q.afterSeq + q.scanLimit, head));
}

export function readResult(q: ReadEventsQuery, events: StoredEvent[], upper: number): ReadEventsResult {
  const full = events.length >= q.limit;
  return { events, scannedTo: full ? (events[events.length - 1] as StoredEvent).seq : Math.max(q.afterSeq, upper) };
}
