import { allEventTypes } from "../catalog/catalog.js";
import { slotOf } from "../catalog/user-key.js";
import type { Store, StoredEvent } from "../store/port.js";

/** What to look for: one event by its id, or a user's events (by user_id, external_user_id or device_id). */
export interface EventSearch {
  readonly workspace: string;
  readonly eventId?: string;
  readonly userId?: string;
  /** The window searched (acceptance time, ms); an id seen within the dedupe window is found without it. */
  readonly since: number;
  readonly until: number;
  /** Resume after this seq (the previous answer's `scannedTo`). */
  readonly afterSeq?: number;
  /** At most this many events found. */
  readonly limit: number;
  /** At most this many stored events looked at in one call (bounded work; the answer says where it stopped). */
  readonly scanLimit: number;
}

export interface SearchResult {
  readonly events: Array<StoredEvent & { readonly parsed: Record<string, unknown> }>;
  /** Every event of the window up to this seq was looked at. */
  readonly scannedTo: number;
  /** False when the scan stopped before the window's end: call again with `afterSeq = scannedTo`. */
  readonly complete: boolean;
  /** The id was looked up in the dedupe index (no scan). */
  readonly indexed: boolean;
}

const READ_CHUNK = 5_000;

function matcher(q: EventSearch): (body: string) => Record<string, unknown> | undefined {
  const needle = q.eventId ?? q.userId ?? "";
  return (body) => {
    // The text test first: most events are not parsed at all.
    if (!body.includes(needle)) return undefined;
    let e: Record<string, unknown>;
    try {
      e = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (q.eventId !== undefined) return e.id === q.eventId ? e : undefined;
    const user = e.user as Record<string, unknown> | undefined;
    if (!user || typeof user !== "object") return undefined;
    return [user.user_id, user.external_user_id, user.device_id].some((v) => v !== undefined && String(v) === q.userId) ? e : undefined;
  };
}

/**
 * Finds events in the store, newest window first as asked: an event id seen within the
 * dedupe window (24 h) is located through the dedupe index and its acceptance time; anything
 * else is a bounded scan of the window, which the caller continues with `scannedTo`. In
 * JetStream mode a user's events are read from the user's partition only.
 */
export async function searchEvents(store: Store, q: EventSearch): Promise<SearchResult> {
  const match = matcher(q);
  const types = allEventTypes().map((t) => t.type);
  let from = q.afterSeq ?? (await store.events.seqBefore(q.since));
  let to = await store.events.seqBefore(q.until);
  let indexed = false;
  if (q.eventId !== undefined && q.afterSeq === undefined) {
    const seenAt = await store.events.seenAt(q.workspace, q.eventId);
    if (seenAt !== undefined) {
      [from, to, indexed] = [await store.events.seqBefore(seenAt), await store.events.seqBefore(seenAt + 1), true];
    }
  }
  const partitions: Array<number | undefined> = !store.partitions
    ? [undefined]
    : q.userId !== undefined
      ? [slotOf(q.userId, store.partitions)]
      : Array.from({ length: store.partitions }, (_, p) => p);
  const found: SearchResult["events"] = [];
  let budget = q.scanLimit;
  let scannedTo = to;
  for (const partition of partitions) {
    let after = from;
    while (after < to && budget > 0 && found.length < q.limit) {
      const r = await store.events.read({ workspace: q.workspace, types, partition, afterSeq: after, limit: READ_CHUNK, scanLimit: Math.min(budget, to - after) });
      for (const e of r.events) {
        if (e.seq > to) break;
        const parsed = match(e.body);
        if (parsed) found.push({ ...e, parsed });
      }
      budget -= Math.max(r.events.length, 1);
      if (r.scannedTo <= after) break;
      after = Math.min(r.scannedTo, to);
    }
    // Several partitions: a partition not searched to the end decides where to resume (from its position).
    if (after < to) {
      scannedTo = Math.min(scannedTo, after);
      break;
    }
  }
  return { events: found.slice(0, q.limit), scannedTo, complete: scannedTo >= to, indexed };
}
