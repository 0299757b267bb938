import { statSync } from "node:fs";
import { join } from "node:path";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { AttemptRecord } from "../delivery/batch-delivery.js";
import type { IngestResult } from "../ingest/ingest-events.js";
import { VERSION } from "../version.js";

export interface MetricsSources {
  /** Per-Current backlog, read when Prometheus scrapes. */
  readonly backlog: () => Promise<Array<{ currentId: string; pending: number; oldestPendingAgeMs: number | null; deadLetters: number }>>;
  /** Every Current with its status, name, partner and workspace, read when Prometheus scrapes. */
  readonly currents: () => Promise<Array<{ id: string; name: string; partner: string; workspace: string; status: string }>>;
  readonly dataDir: string;
}

const STATUSES = ["draft", "active", "paused", "failing", "disabled"] as const;
/** prom-client's default gauges whose names end in `_total` (a gauge must not); their labelled twins stay. */
const GAUGES_NAMED_LIKE_COUNTERS = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

/**
 * Prometheus metrics (prom-client), served at `GET /metrics`. Names follow Prometheus'
 * conventions (`promtool check metrics` passes on a real scrape, in a test): one `currents_`
 * prefix, counters end in `_total`, units in names. A deleted Current's series go with it;
 * Send Test Events are not deliveries and count nowhere here.
 */
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
  readonly #freshness = new Histogram({
    name: "currents_delivery_freshness_seconds", help: "From acknowledgement at ingest to the partner's 2xx, for the oldest event of each delivered batch", labelNames: ["current"],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600], registers: [this.registry],
  });
  readonly #httpRequests = new Counter({ name: "currents_http_requests_total", help: "HTTP requests answered, by route, method and status (refusals included)", labelNames: ["route", "method", "status"], registers: [this.registry] });
  readonly #httpDuration = new Histogram({
    name: "currents_http_request_duration_seconds", help: "Time to answer HTTP requests, by route and method", labelNames: ["route", "method"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers: [this.registry],
  });
  readonly #outcomes = new Map<string, Set<string>>();

  constructor(sources: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, prefix: "currents_" });
    for (const name of GAUGES_NAMED_LIKE_COUNTERS) this.registry.removeSingleMetric(`currents_${name}`);
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
      name: "currents_current_status", help: "1 for the status each Current is in (alert on failing or disabled), 0 for the others", labelNames: ["current", "status"], registers: [registry],
      async collect() {
        this.reset();
        for (const c of await sources.currents()) for (const s of STATUSES) this.set({ current: c.id, status: s }, c.status === s ? 1 : 0);
      },
    });
    new Gauge({
      name: "currents_current_info", help: "Each Current's name, partner and workspace (join on current)", labelNames: ["current", "name", "partner", "workspace"], registers: [registry],
      async collect() {
        this.reset();
        for (const c of await sources.currents()) this.set({ current: c.id, name: c.name, partner: c.partner, workspace: c.workspace }, 1);
      },
    });
    new Gauge({ name: "currents_build_info", help: "The running Currents' version", labelNames: ["version", "node"], registers: [registry] }).set({ version: VERSION, node: process.version }, 1);
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
    if (a.outcome === "test") return; // Send Test Events are not deliveries
    let outcomes = this.#outcomes.get(currentId);
    if (!outcomes) this.#outcomes.set(currentId, (outcomes = new Set()));
    outcomes.add(a.outcome);
    this.#attempts.inc({ current: currentId, outcome: a.outcome });
    this.#latency.observe({ current: currentId }, a.latencyMs / 1000);
    if (a.outcome === "delivered") {
      this.#delivered.inc({ current: currentId }, a.events);
      if (a.oldestAgeMs !== undefined) this.#freshness.observe({ current: currentId }, a.oldestAgeMs / 1000);
    }
  }

  onHttp(route: string, method: string, status: number, seconds: number): void {
    this.#httpRequests.inc({ route, method, status: String(status) });
    this.#httpDuration.observe({ route, method }, seconds);
  }

  /** A deleted Current's series go (they would otherwise stay until the process restarts). */
  forget(currentId: string): void {
    for (const outcome of this.#outcomes.get(currentId) ?? []) this.#attempts.remove({ current: currentId, outcome });
    this.#outcomes.delete(currentId);
    this.#delivered.remove({ current: currentId });
    this.#latency.remove({ current: currentId });
    this.#freshness.remove({ current: currentId });
  }
}
