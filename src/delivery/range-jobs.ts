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
  progress.state = "done";
  progress.finishedAt = deps.now();
}

/**
 * Redrive: sends dead letters again. A letter is removed only once its batch settled
 * (delivered, or refused again and so dead-lettered anew), so a crash loses none.
 */
export async function runRedrive(
  target: BatchTarget, deps: DeliveryDeps, letters: DeadLetterStore, c: JobControl,
  ids: readonly number[], batchSize: number, progress: JobProgress,
): Promise<void> {
  const { current } = target;
  for (let i = 0; i < ids.length; i += batchSize) {
    if (c.signal.aborted || c.halted()) return stop(progress, c.halted() ? "the Current is failing" : "stopped");
    const chunk = await letters.get(current.id, ids.slice(i, i + batchSize));
    if (chunk.length === 0) continue;
    const batch: StoredEvent[] = chunk.map((l) => ({ seq: l.seq, type: "", receivedAt: l.createdAt, body: l.body }));
    if (!(await deliverBatch(target, deps, control(c, `redrive-${chunk[0]?.id}-`), batch))) {
      return stop(progress, c.halted() ? "the Current is failing" : "stopped");
    }
    await letters.remove(current.id, chunk.map((l) => l.id));
    progress.sent += chunk.length;
  }
  progress.state = "done";
  progress.finishedAt = deps.now();
}

function stop(progress: JobProgress, why: string): void {
  progress.state = "stopped";
  progress.detail = why;
}
