import type { CountResult } from "../store/bucket-counts.js";
import type { Store } from "../store/port.js";
import type { CurrentRecord } from "./model.js";

/**
 * A Current's events after its position (up to `toSeq`): how many, and the oldest's time. In
 * JetStream mode each partition has its own position (the Current's is the lowest of them), so
 * the partitions are counted each from its own: a partition far ahead is not counted again.
 */
export async function pendingOf(store: Store, c: CurrentRecord, ackedSeq: number, toSeq?: number): Promise<CountResult> {
  const selection = { workspace: c.workspace, types: c.events };
  const n = store.partitions;
  if (!n || !store.config.partitionPositions) return store.events.count(selection, ackedSeq, toSeq);
  const positions = await store.config.partitionPositions(c.id);
  // One look-up of the head for all partitions, not one each.
  const upto = toSeq ?? (await store.events.headSeq());
  const parts = await Promise.all(Array.from({ length: n }, (_, p) => {
    const from = Math.max(ackedSeq, positions.get(p) ?? 0);
    return from >= upto ? { count: 0, oldestReceivedAt: null } : store.events.count({ ...selection, partition: p }, from, upto);
  }));
  let count = 0;
  let oldest: number | null = null;
  for (const r of parts) {
    count += r.count;
    if (r.oldestReceivedAt !== null && (oldest === null || r.oldestReceivedAt < oldest)) oldest = r.oldestReceivedAt;
  }
  return { count, oldestReceivedAt: oldest };
}
