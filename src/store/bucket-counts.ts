import type { EventSelection } from "./port.js";

/**
 * Counting a Current's pending events without scanning them. Both stores keep, for every
 * (workspace, event type, bucket of 2^14 seqs), how many events were stored (`event_counts`,
 * written in the same transaction as the events). A count over (afterSeq, toSeq] sums the
 * whole buckets in between and scans only the two partial buckets at its ends: at most
 * 2 x 16,384 rows whatever the backlog (5,000,000 pending events cost ~300 bucket rows per
 * selected type instead of 5,000,000 rows). Retention drops the rows of buckets it emptied.
 */
export const BUCKET_BITS = 14;
export const bucketOf = (seq: number): number => Math.floor(seq / 2 ** BUCKET_BITS);
const firstSeqOf = (bucket: number): number => bucket * 2 ** BUCKET_BITS;
const lastSeqOf = (bucket: number): number => (bucket + 1) * 2 ** BUCKET_BITS - 1;

export interface CountResult {
  readonly count: number;
  readonly oldestReceivedAt: number | null;
}

/** What an adapter answers for `countByBuckets`. */
export interface BucketQueries {
  /** Events stored in buckets `fromBucket..toBucket` (inclusive) of the selection. */
  sumBuckets(sel: EventSelection, fromBucket: number, toBucket: number): Promise<number> | number;
  /** The lowest bucket in `fromBucket..toBucket` holding events of the selection. */
  firstBucket(sel: EventSelection, fromBucket: number, toBucket: number): Promise<number | undefined> | number | undefined;
  /** Counts rows with seq in (afterSeq, uptoSeq] (a range within one or two buckets). */
  scan(sel: EventSelection, afterSeq: number, uptoSeq: number): Promise<CountResult> | CountResult;
}

export async function countByBuckets(q: BucketQueries, sel: EventSelection, afterSeq: number, toSeq: number): Promise<CountResult> {
  if (sel.types.length === 0 || toSeq <= afterSeq) return { count: 0, oldestReceivedAt: null };
  const lo = bucketOf(afterSeq + 1);
  const hi = bucketOf(toSeq);
  if (hi - lo <= 1) return q.scan(sel, afterSeq, toSeq);
  const low = await q.scan(sel, afterSeq, lastSeqOf(lo));
  const middle = await q.sumBuckets(sel, lo + 1, hi - 1);
  const high = await q.scan(sel, firstSeqOf(hi) - 1, toSeq);
  let oldest = low.oldestReceivedAt;
  if (oldest === null && middle > 0) {
    const first = await q.firstBucket(sel, lo + 1, hi - 1);
    if (first !== undefined) oldest = (await q.scan(sel, firstSeqOf(first) - 1, lastSeqOf(first))).oldestReceivedAt;
  }
  return { count: low.count + middle + high.count, oldestReceivedAt: oldest ?? high.oldestReceivedAt };
}
