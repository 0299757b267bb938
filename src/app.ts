import { CohortService } from "./cohorts/cohort-service.js";
import { DataImportKeys } from "./cohorts/import-keys.js";
import { WebhookReceiver } from "./sources/receive-webhook.js";
import { SourceService } from "./sources/source-service.js";
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import type { Config } from "./config.js";
import { CurrentService } from "./currents/current-service.js";
import { FailingMonitor, type FailingRules } from "./currents/failing-monitor.js";
import { Notifier } from "./notices/notifier.js";
import { Alerts } from "./currents/alerts.js";
import { DeliveryEngine } from "./delivery/delivery-engine.js";
import { MinuteSeries } from "./delivery/minute-series.js";
import type { RetryPolicy } from "./delivery/retry-policy.js";
import { IngestGuard } from "./ingest/ingest-guard.js";
import { Closers } from "./lifecycle.js";
import { type BootstrapResult, CredentialService } from "./security/credential-service.js";
import { SecretBox, loadMasterKey } from "./security/secret-box.js";
import { buildServer } from "./server/build-server.js";
import { Metrics } from "./server/metrics.js";
import type { Services } from "./server/services.js";
import type { Store } from "./store/port.js";
import { sweepRecords, sweepRetention } from "./store/retention.js";
import { openStore } from "./store/open-store.js";

export interface CurrentsOptions {
  readonly logger?: Logger;
  readonly now?: () => number;
  readonly random?: () => number;
  readonly retryPolicy?: RetryPolicy;
  /** How often the retention sweep runs. @defaultValue 60_000 */
  readonly retentionSweepMs?: number;
  readonly failingRules?: FailingRules;
  /** How often failing Currents are looked at (probes, disabling). @defaultValue 15_000 */
  readonly failingCheckMs?: number;
  /** How often the per-minute chart series is written. @defaultValue 10_000 */
  readonly seriesFlushMs?: number;
  /** How often every Current's alerts are checked. @defaultValue 30_000 */
  readonly alertCheckMs?: number;
}

export interface CurrentsApp {
  readonly services: Services;
  readonly server: FastifyInstance;
  readonly bootstrap: BootstrapResult;
  readonly failingMonitor: FailingMonitor;
  readonly notifier: Notifier;
  /**
   * Listens on the configured host and port, then starts delivery; resolves with the base
   * URL. HTTP comes first: whatever delivery meets, the API and the dashboard are up.
   */
  listen(): Promise<string>;
  /** Stops gracefully: no new requests, in-flight batches settle or are released, the store closes. */
  close(): Promise<void>;
}

type Backlog = Array<{ currentId: string; status: string; pending: number; oldestPendingAgeMs: number | null; deadLetters: number }>;

/** Builds the whole service: store (embedded, or PostgreSQL in server mode), credentials, Currents, delivery, HTTP. */
export async function createCurrents(config: Config, options: CurrentsOptions = {}): Promise<CurrentsApp> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: { service: "currents" } });
  const now = options.now ?? Date.now;
  const store: Store = await openStore(config, logger);
  const closers = new Closers(logger);
  closers.add("store", () => store.close());
  try {
    const secretBox = new SecretBox(loadMasterKey(config.dataDir, config.masterKey));
    const credentials = new CredentialService(store, now);
    const bootstrap = await credentials.bootstrap({ adminToken: config.adminToken, readonlyToken: config.readonlyToken, ingestKey: config.ingestKey });
    const currents = new CurrentService(store, secretBox, config, logger, now);
    const series = new MinuteSeries(now);
    const notifier = new Notifier({ store, logger, now, smtpUrl: config.smtpUrl, smtpFrom: config.smtpFrom, webhookUrl: config.notifyWebhookUrl });
    closers.add("notices", async () => {
      await notifier.settle();
      notifier.close();
    });

    // One backlog reading per scrape serves the three gauges that need it.
    let backlogCache: { at: number; value: Promise<Backlog> } | undefined;
    const readBacklog = async (): Promise<Backlog> => {
      const list = (await store.config.listCurrents()).filter((c) => c.status !== "draft");
      return Promise.all(list.map(async (c) => {
        const s = await currents.stats(c);
        return { currentId: c.id, status: c.status, pending: s.pending, oldestPendingAgeMs: s.oldestPendingAgeMs, deadLetters: s.deadLettered };
      }));
    };
    const metrics = new Metrics({
      dataDir: config.dataDir,
      currents: async () => (await store.config.listCurrents()).map((c) => ({ id: c.id, name: c.name, partner: c.partner, workspace: c.workspace, status: c.status })),
      backlog: () => {
        if (!backlogCache || now() - backlogCache.at > 1_000) backlogCache = { at: now(), value: readBacklog() };
        return backlogCache.value;
      },
    });

    // The partner refused the credentials: mark the Current failing, trying again while the
    // store cannot take it, so a halted worker never sits behind an "active" status.
    const markFailing = (id: string, reason: string, delayMs = 1_000): void => {
      currents.markFailing(id, reason).catch((err: unknown) => {
        logger.error({ err, currentId: id }, "could not mark the Current failing; will retry");
        if (closers.closed) return;
        setTimeout(() => markFailing(id, reason, Math.min(delayMs * 2, 30_000)), delayMs).unref();
      });
    };
    const engine = new DeliveryEngine({
      store,
      config,
      logger,
      now,
      random: options.random,
      retryPolicy: options.retryPolicy,
      resolveSettings: (c) => currents.resolveSettings(c),
      onFailing: (id, reason) => markFailing(id, reason),
      onAttempt: (id, attempt) => {
        metrics.onAttempt(id, attempt);
        series.record(id, attempt);
      },
      onDeadLetters: (id, count) => {
        currents.deadLettersAppeared(id, count).catch((err: unknown) => logger.error({ err, currentId: id }, "could not send a dead-letter notice"));
      },
    });
    currents.attachEngine(engine, notifier, (id) => {
      metrics.forget(id);
      backlogCache = undefined;
    });
    const failingMonitor = new FailingMonitor({
      listFailing: async () => (await store.config.listCurrents()).filter((c) => c.status === "failing"),
      probe: (c) => engine.connectionCheck(c),
      recover: (id, reason) => currents.recover(id, reason),
      disable: (id, reason) => currents.disable(id, reason),
      logger,
      now,
      random: options.random ?? Math.random,
      rules: options.failingRules,
    });

    const ingestGuard = new IngestGuard({
      store, now, maxBacklogEvents: config.maxBacklogEvents, minFreeDiskBytes: config.minFreeDiskBytes,
      dataDir: store.kind === "sqlite" ? config.dataDir : undefined,
    });
    // Server mode: keys created or revoked through another process hold here within a second.
    if (store.kind !== "sqlite") {
      credentials.startRefreshing(1_000, (err) => logger.warn({ err: { message: (err as Error).message } }, "could not refresh ingest keys; will retry"));
      closers.add("key refresh", () => credentials.stopRefreshing());
    }
    const sources = new SourceService(store, secretBox, config, logger, now);
    const webhooks = new WebhookReceiver(store, sources, logger, now);
    const importKeys = new DataImportKeys(store, now);
    if (config.dataImportKey) await importKeys.preset(config.dataImportKey);
    const cohorts = new CohortService({ store, keys: importKeys, partnerApiKey: config.partnerApiKey, logger, now, onEvents: (ws) => engine.notifyAppended(ws) });
    const alerts = new Alerts({
      store, logger, now, notify: (c, kind, message) => notifier.notify(c, kind, message),
      measure: async (c) => {
        const s = await currents.stats(c);
        return { oldestPendingAgeMs: s.oldestPendingAgeMs, deadLetters: s.deadLettered };
      },
    });
    const services: Services = { config, store, credentials, currents, engine, logger, now, metrics, ingestGuard, sources, webhooks, cohorts, importKeys, alerts };
    const server = await buildServer(services);
    let started = false;

    // Each process writes the points of the Currents it delivers; the holder of the
    // "series" job also writes the backlog of Currents nobody delivers (paused, failing...).
    const writeSeries = async (delivered: (id: string) => boolean = (id) => engine.delivers(id)) => {
      const others = await engine.ownership.job("series", options.seriesFlushMs ?? 10_000).catch(() => false);
      const backlogs = new Map((await readBacklog())
        .filter((b) => delivered(b.currentId) || (others && b.status !== "active"))
        .map((b) => [b.currentId, { pending: b.pending, oldestAgeMs: b.oldestPendingAgeMs }]));
      await store.config.upsertMinutes(series.points(backlogs));
    };

    const startDelivery = async () => {
      started = true;
      // Jobs that must run once across processes hold a lease while they run.
      const failingCheckMs = options.failingCheckMs ?? 15_000;
      closers.every("failing-Current check", failingCheckMs, async () => {
        if (await engine.ownership.job("failing-monitor", failingCheckMs)) await failingMonitor.tick();
      });
      const sweepMs = options.retentionSweepMs ?? 60_000;
      closers.every("retention", sweepMs, async () => {
        if (!(await engine.ownership.job("retention", sweepMs))) return;
        await sweepRetention({ store, logger, retentionMs: config.retentionMs, dedupeWindowMs: config.dedupeWindowMs, now, beforeSweep: () => engine.flushProgress() });
        await sweepRecords({ store, logger, now, deadLetterRetentionMs: config.deadLetterRetentionMs, historyRetentionMs: config.historyRetentionMs, auditRetentionMs: config.auditRetentionMs, attemptRetentionMs: config.attemptRetentionMs });
        await store.config.deleteMinutesBefore(Math.floor(now() / 60_000) - 2 * 1440);
      });
      const alertCheckMs = options.alertCheckMs ?? 30_000;
      closers.every("alerts", alertCheckMs, async () => {
        if (!(await engine.ownership.job("alerts", alertCheckMs))) return;
        await engine.flush();
        await alerts.check(await store.config.listCurrents());
      });
      closers.every("delivery series", options.seriesFlushMs ?? 10_000, () => writeSeries());
      closers.add("delivery", async () => {
        // The last minute's deliveries are written for the Currents this process delivered.
        const owned = new Set(engine.delivered());
        await engine.stop();
        await writeSeries((id) => owned.has(id)).catch(() => undefined);
      });
      await engine.start();
      // Server mode: events appended by other processes wake this one's workers too.
      const unsubscribe = store.onAppended?.((workspace) => engine.notifyAppended(workspace));
      if (unsubscribe) closers.add("append notices", unsubscribe);
    };

    return {
      services,
      server,
      bootstrap,
      failingMonitor,
      notifier,
      async listen() {
        await server.listen({ port: config.port, host: config.host });
        if (!started) await startDelivery();
        const addr = server.server.address();
        const port = typeof addr === "object" && addr ? addr.port : config.port;
        const host = config.host.includes(":") ? `[${config.host}]` : config.host;
        return `http://${host}:${port}`;
      },
      // HTTP stops first (no new requests), then delivery, notices and the store, newest first.
      async close() {
        if (!closers.closed) await server.close().catch((err: unknown) => logger.error({ err }, "error while stopping HTTP"));
        await closers.closeAll();
      },
    };
  } catch (error) {
    await closers.closeAll();
    throw error;
  }
}
