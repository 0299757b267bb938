/**
 * The highest seq of the events received before `receivedBefore` (0 when none), found by
 * binary search over seqs: `received_at` grows with `seq` (both are given in acceptance
 * order), so about 2 log2(n) primary-key look-ups answer it, whatever the size of the log,
 * with no index on `received_at`. `firstAtOrAfter(seq)` returns the first stored event with a
 * seq at or above `seq` (events may have been deleted in between).
 */
export async function seqBeforeBySearch(
  head: number,
  receivedBefore: number,
  firstAtOrAfter: (seq: number) => Promise<{ seq: number; receivedAt: number } | undefined> | { seq: number; receivedAt: number } | undefined,
): Promise<number> {
  const oldest = await firstAtOrAfter(0);
  if (!oldest || oldest.receivedAt >= receivedBefore) return oldest ? oldest.seq - 1 : head;
  // Invariant: the event at `lo` was received before; the first event at or after `hi` was not (or none).
  let lo = oldest.seq;
  let hi = head + 1;
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const e = await firstAtOrAfter(mid);
    if (e && e.seq < hi && e.receivedAt < receivedBefore) lo = e.seq;
    else hi = mid;
  }
  return lo;
}
