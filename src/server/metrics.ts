import { statSync } from "node:fs";
import { join } from "node:path";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { AttemptRecord } from "../delivery/batch-delivery.js";
import type { IngestResult } from "../ingest/ingest-events.js";

export interface MetricsSources {
  /** Per-Current backlog, read when Prometheus scrapes. */
  readonly backlog: () => Promise<Array<{ currentId: string; pending: number; oldestPendingAgeMs: number | null; deadLetters: number }>>;
  readonly dataDir: string;
}

/** Prometheus metrics (prom-client), served at `GET /metrics`. */
export class Metrics {
  readonly registry = new Registry();
  readonly #ingest = new Counter({ name: "currents_ingest_events_total", help: "Events received by ingest, by outcome", labelNames: ["outcome"], registers: [this.registry] });
  readonly #warnings = new Counter({ name: "currents_ingest_warnings_total", help: "Accepted events with a catalog-required field missing, by event type", labelNames: ["event_type"], registers: [this.registry] });
  readonly #delivered = new Counter({ name: "currents_events_delivered_total", help: "Events delivered to partners", labelNames: ["current"], registers: [this.registry] });
  readonly #attempts = new Counter({ name: "currents_attempts_total", help: "Delivery attempts by outcome", labelNames: ["current", "outcome"], registers: [this.registry] });
  readonly #latency = new Histogram({
    name: "currents_batch_latency_seconds", help: "Latency of delivery attempts", labelNames: ["current"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry],
  });

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, prefix: "currents_process_" });
    const registry = this.registry;
    type Backlog = Awaited<ReturnType<MetricsSources["backlog"]>>[number];
    const perCurrent = (name: string, help: string, value: (b: Backlog) => number) =>
      new Gauge({
        name, help, labelNames: ["current"], registers: [registry],
        async collect() {
          this.reset();
          for (const b of await sources.backlog()) this.set({ current: b.currentId }, value(b));
        },
      });
    perCurrent("currents_backlog_events", "Events pending delivery per Current", (b) => b.pending);
    perCurrent("currents_oldest_pending_age_seconds", "Age of the oldest undelivered event per Current", (b) => (b.oldestPendingAgeMs ?? 0) / 1000);
    perCurrent("currents_dead_letters", "Dead letters held per Current", (b) => b.deadLetters);
    new Gauge({
      name: "currents_store_bytes", help: "Size of the embedded store's files", registers: [registry],
      collect() {
        let bytes = 0;
        for (const f of ["currents.db", "currents.db-wal", "currents.db-shm"]) {
          try { bytes += statSync(join(sources.dataDir, f)).size; } catch { /* absent */ }
        }
        this.set(bytes);
      },
    });
  }

  onIngest(result: IngestResult): void {
    this.#ingest.inc({ outcome: "stored" }, result.accepted - result.duplicates);
    this.#ingest.inc({ outcome: "duplicate" }, result.duplicates);
    this.#ingest.inc({ outcome: "rejected" }, result.rejected.length);
    for (const w of result.warnings) this.#warnings.inc({ event_type: w.type });
  }

  onAttempt(currentId: string, a: AttemptRecord): void {
    this.#attempts.inc({ current: currentId, outcome: a.outcome });
    this.#latency.observe({ current: currentId }, a.latencyMs / 1000);
    if (a.outcome === "delivered") this.#delivered.inc({ current: currentId }, a.events);
  }
}
