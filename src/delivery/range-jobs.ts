import type { EventLog, DeadLetterStore, StoredEvent } from "../store/port.js";
import { type BatchTarget, type DeliveryDeps, deliverBatch } from "./batch-delivery.js";

/** Progress of a replay or a redrive, shown in the Current's stats. */
export interface JobProgress {
  kind: "replay" | "redrive";
  state: "running" | "done" | "stopped";
  total: number;
  sent: number;
  startedAt: number;
  finishedAt: number | null;
  detail: string | null;
}

interface JobControl {
  readonly signal: AbortSignal;
  halted(): boolean;
  halt(): void;
}

const control = (c: JobControl, keyPrefix: string) => ({ ...c, backoff: () => {}, keyPrefix });

/**
 * Replay: re-sends the Current's retained events with seq in (fromSeq, toSeq], with the same
 * event ids (receivers dedupe on `id`) and the batching, retries and splitting of live delivery.
 * It does not move the Current's position.
 */
export async function runReplay(
  target: BatchTarget, deps: DeliveryDeps, events: EventLog, c: JobControl,
  range: { fromSeq: number; toSeq: number; batchSize: number; replayId: string }, progress: JobProgress,
): Promise<void> {
  let after = range.fromSeq;
  const { current } = target;
  while (after < range.toSeq) {
    if (c.signal.aborted || c.halted()) return stop(progress, c.halted() ? "the Current is failing" : "stopped");
    const { events: found, scannedTo } = await events.read({
      workspace: current.workspace, types: current.events, afterSeq: after, limit: range.batchSize, scanLimit: 20_000,
    });
    const batch = found.filter((e) => e.seq <= range.toSeq);
    after = Math.min(scannedTo, range.toSeq);
    if (batch.length === 0) continue;
    if (!(await deliverBatch(target, deps, control(c, `replay-${range.replayId}-`), batch))) {
      return stop(progress, c.halted() ? "the Current is failing" : "stopped");
    }
    progress.sent += batch.length;
  }
  if (progress.state !== "running") return; // cancelled meanwhile
  progress.state = "done";
  progress.finishedAt = deps.now();
}

/** Which dead letters a redrive sends: chosen ids, or all those held when it started (paged through, up to `maxId`). */
export type RedriveSelection = { readonly ids: readonly number[] } | { readonly allUpTo: number };

/**
 * Redrive: sends dead letters again. A letter is removed only once its batch settled
 * (delivered, or refused again and so dead-lettered anew), so a crash loses none. "All" pages
 * through the letters by id, a batch at a time (never all bodies at once), and stops at the
 * newest letter held when it started, so letters refused again are not sent round again.
 */
export async function runRedrive(
  target: BatchTarget, deps: DeliveryDeps, letters: DeadLetterStore, c: JobControl,
  selection: RedriveSelection, batchSize: number, progress: JobProgress,
): Promise<void> {
  const { current } = target;
  let after = 0;
  let i = 0;
  for (;;) {
    if (c.signal.aborted || c.halted()) return stop(progress, c.halted() ? "the Current is failing" : "stopped");
    let ids: number[];
    if ("ids" in selection) {
      ids = selection.ids.slice(i, i + batchSize);
      i += batchSize;
    } else {
      ids = (await letters.ids(current.id, batchSize, after)).filter((id) => id <= selection.allUpTo);
      after = ids[ids.length - 1] ?? after;
    }
    if (ids.length === 0) break;
    const chunk = await letters.get(current.id, ids);
    if (chunk.length === 0) continue;
    const batch: StoredEvent[] = chunk.map((l) => ({ seq: l.seq, type: "", receivedAt: l.createdAt, body: l.body }));
    if (!(await deliverBatch(target, deps, control(c, `redrive-${chunk[0]?.id}-`), batch))) {
      return stop(progress, c.halted() ? "the Current is failing" : "stopped");
    }
    await letters.remove(current.id, chunk.map((l) => l.id));
    progress.sent += chunk.length;
  }
  if (progress.state !== "running") return; // cancelled meanwhile
  progress.state = "done";
  progress.finishedAt = deps.now();
}

function stop(progress: JobProgress, why: string): void {
  if (progress.detail === "cancelled") return; // cancelled: say so, not how the run ended
  progress.state = "stopped";
  progress.detail = why;
}
