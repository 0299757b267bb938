import type { MinutePoint } from "../store/port.js";
import type { AttemptRecord } from "./batch-delivery.js";

interface Bucket {
  minute: number;
  backlog?: { pending: number; oldestAgeMs: number | null };
  delivered: number;
  failed: number;
  /** What of `delivered` / `failed` was already written (points carry only what is new). */
  writtenDelivered: number;
  writtenFailed: number;
  latencies: number[];
  /** Delivered by type since the last write. */
  types: Map<string, number>;
}

const LATENCIES_KEPT = 2_000;
const newBucket = (minute: number): Bucket => ({ minute, delivered: 0, failed: 0, writtenDelivered: 0, writtenFailed: 0, latencies: [], types: new Map() });

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/**
 * Aggregates attempts into one point per Current and minute (events delivered, failed
 * attempts, latency p50/p99); `points()` gives the open minutes to write, with the backlog
 * sampled by the caller. Closed minutes are dropped once taken. A point carries the
 * deliveries and failures **since the last write**: the store adds them up, so a restart or a
 * takeover by another process within the same minute adds to it instead of overwriting it.
 */
export class MinuteSeries {
  #buckets = new Map<string, Bucket>();
  #closed: MinutePoint[] = [];

  constructor(private readonly now: () => number) {}

  record(currentId: string, a: AttemptRecord): void {
    if (a.outcome === "test") return;
    const minute = Math.floor(a.at / 60_000);
    let b = this.#buckets.get(currentId);
    if (b && b.minute !== minute) {
      this.#closed.push(this.#point(currentId, b, null));
      b = undefined;
    }
    if (!b) this.#buckets.set(currentId, (b = newBucket(minute)));
    for (const [type, n] of Object.entries(a.types ?? {})) b.types.set(type, (b.types.get(type) ?? 0) + n);
    if (a.outcome === "delivered") b.delivered += a.events;
    else b.failed++;
    if (b.latencies.length < LATENCIES_KEPT) b.latencies.push(a.latencyMs);
  }

  #point(currentId: string, b: Bucket, backlog: { pending: number; oldestAgeMs: number | null } | null): MinutePoint {
    const sorted = [...b.latencies].sort((x, y) => x - y);
    const delivered = b.delivered - b.writtenDelivered;
    const failed = b.failed - b.writtenFailed;
    b.writtenDelivered = b.delivered;
    b.writtenFailed = b.failed;
    const byType = b.types.size > 0 ? Object.fromEntries(b.types) : undefined;
    b.types = new Map();
    return {
      ...(byType ? { byType } : {}),
      currentId, minute: b.minute, delivered, failed,
      p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99),
      backlog: (backlog ?? b.backlog)?.pending ?? null, oldestAgeMs: (backlog ?? b.backlog)?.oldestAgeMs ?? null,
    };
  }

  /** Points to write now: closed minutes, and this minute for each Current with its backlog. */
  points(backlogs: ReadonlyMap<string, { pending: number; oldestAgeMs: number | null }>): MinutePoint[] {
    const minute = Math.floor(this.now() / 60_000);
    const out = this.#closed;
    this.#closed = [];
    for (const [id, b] of this.#buckets) {
      if (b.minute !== minute) {
        out.push(this.#point(id, b, null));
        this.#buckets.delete(id);
      }
    }
    for (const [id, backlog] of backlogs) {
      let b = this.#buckets.get(id);
      if (!b) this.#buckets.set(id, (b = newBucket(minute)));
      b.backlog = backlog;
      out.push(this.#point(id, b, backlog));
    }
    return out;
  }
}
