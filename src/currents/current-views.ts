import { pendingOf } from "./pending.js";
import type { DeliveryEngine } from "../delivery/delivery-engine.js";
import { partnerById } from "../partners/registry.js";
import type { Store } from "../store/port.js";
import type { CurrentRecord, CurrentStatus } from "./model.js";

export interface CurrentStats {
  delivered: number;
  /** Events ever dead-lettered (deadLettered is how many are held now, after redrives and discards). */
  deadLetteredTotal: number;
  /** Delivered in the last 24 h (from the per-minute series, written every 10 s). */
  delivered24h: number;
  pending: number;
  failedAttempts: number;
  deadLettered: number;
  expired: number;
  /** Pending events a partner's rate limit holds back now (Heap's server-side API: one identity over its limit). */
  heldByRateLimit: number;
  /** Property keys or values cut to the partner's limits, ever. */
  valuesCut: number;
  /** Dead letters held now by reason (over the newest 10,000). */
  deadLettersByReason: Array<{ reason: string; count: number }>;
  oldestPendingAgeMs: number | null;
  lastDeliveredAt: string | null;
  lastError: string | null;
  /** When the last error happened (shown with it; the error clears itself on the next delivery). */
  lastErrorAt: string | null;
  /** While the Current waits to retry (this process's view): when the next attempt is due. */
  retryingUntil: string | null;
  /** The running (or last) replay or redrive, with its progress. */
  job: { kind: string; state: string; total: number; sent: number; startedAt: string | null; finishedAt: string | null; detail: string | null } | null;
}

/** What the API shows of a Current: secrets masked, never in clear. */
export interface CurrentView {
  id: string;
  name: string;
  partner: string;
  workspace: string;
  contactEmail: string | null;
  settings: Record<string, unknown>;
  /** Where the Current sends: its endpoint, or the partner's URL for its settings. */
  destination: string;
  events: readonly string[];
  transformations: CurrentRecord["transformations"];
  batching: CurrentRecord["batching"];
  /** per_user: each user's events arrive in acceptance order. */
  ordering: "none" | "per_user";
  status: CurrentStatus;
  statusReason: string | null;
  statusSince: string;
  createdAt: string;
  updatedAt: string;
  launchedAt: string | null;
  stats: CurrentStats;
  /** Secrets Currents generated for this answer's change (e.g. a signing secret): shown here once, never again. */
  secretsShownOnce?: Record<string, string>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * What the API shows of a Current: its stats (every count bounded, see bucket-counts.ts) and
 * its view (secrets masked, never in clear).
 */
export class CurrentViews {
  constructor(private readonly store: Store, private readonly now: () => number, private readonly engine: () => DeliveryEngine | undefined) {}

  async stats(c: CurrentRecord): Promise<CurrentStats> {
    await this.engine()?.flushProgress();
    const p = await this.store.config.getProgress(c.id);
    const pending = c.status === "draft" || !p
      ? { count: 0, oldestReceivedAt: null }
      : await pendingOf(this.store, c, p.ackedSeq);
    const deadLettered = await this.store.deadLetters.count(c.id);
    return {
      delivered: p?.delivered ?? 0,
      // Launched within the day: everything delivered is of the day (the per-minute series lags up to 10 s behind).
      delivered24h: c.launchedAt !== null && this.now() - c.launchedAt < 86_400_000
        ? p?.delivered ?? 0
        : await this.store.config.deliveredSince(c.id, Math.floor(this.now() / 60_000) - 1439),
      pending: pending.count,
      failedAttempts: p?.failedAttempts ?? 0,
      deadLettered,
      deadLetteredTotal: p?.deadLettered ?? 0,
      expired: p?.expired ?? 0,
      heldByRateLimit: this.engine()?.held(c.id) ?? 0,
      valuesCut: p?.valuesCut ?? 0,
      deadLettersByReason: deadLettered > 0 ? await this.store.deadLetters.reasons(c.id, 10_000) : [],
      oldestPendingAgeMs: pending.oldestReceivedAt === null ? null : Math.max(0, this.now() - pending.oldestReceivedAt),
      lastDeliveredAt: iso(p?.lastDeliveredAt ?? null),
      lastError: p?.lastError ?? null,
      lastErrorAt: p?.lastError ? iso(p.lastErrorAt ?? null) : null,
      retryingUntil: iso(this.engine()?.retryAt(c.id) ?? null),
      job: this.#jobView(c.id),
    };
  }

  #jobView(id: string) {
    const j = this.engine()?.job(id);
    return j ? { ...j, startedAt: iso(j.startedAt), finishedAt: iso(j.finishedAt) } : null;
  }

  async view(c: CurrentRecord): Promise<CurrentView> {
    return {
      id: c.id,
      name: c.name,
      partner: c.partner,
      workspace: c.workspace,
      contactEmail: c.contactEmail,
      settings: { ...c.settings, ...c.secretHints },
      destination: partnerById(c.partner)?.endpointOf?.(c.settings) ?? String(c.settings.endpoint ?? ""),
      events: c.events,
      transformations: c.transformations,
      batching: c.batching,
      ordering: c.batching.ordering ?? "none",
      status: c.status,
      statusReason: c.statusReason,
      statusSince: iso(c.statusSince) as string,
      createdAt: iso(c.createdAt) as string,
      updatedAt: iso(c.updatedAt) as string,
      launchedAt: iso(c.launchedAt),
      stats: await this.stats(c),
    };
  }
}
