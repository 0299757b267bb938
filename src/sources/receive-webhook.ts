import type { Logger } from "pino";
import { ClientError } from "../errors.js";
import { ingestEvents } from "../ingest/ingest-events.js";
import type { Store } from "../store/port.js";
import { buildSourceEvent } from "./build-event.js";
import { type SourceContext, UnreadablePayload, type WebhookRequest } from "./define-source.js";
import { sourceKindById } from "./registry.js";
import type { SourceService } from "./source-service.js";

export interface WebhookAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Excerpt of an unmapped provider event kept for the dashboard. */
const EXCERPT = 500;
/** Replay-cache entries (Mailgun tokens) kept at most. */
const REPLAY_MAX = 100_000;

/**
 * One webhook request to a source: verified against the raw bytes (nothing is stored when it
 * fails), split into provider events, each mapped to catalog events that must pass strict
 * validation, appended durably (the 2xx only after the fsync, so the provider retries
 * whatever was not stored), and counted in the source's stats.
 */
export class WebhookReceiver {
  readonly #seen = new Map<string, number>();

  constructor(private readonly store: Store, private readonly sources: SourceService, private readonly logger: Logger, private readonly now: () => number = Date.now) {}

  #firstSeen = (value: string, ttlMs: number): boolean => {
    const now = this.now();
    const until = this.#seen.get(value);
    if (until !== undefined && until > now) return false;
    this.#seen.set(value, now + ttlMs);
    if (this.#seen.size > REPLAY_MAX) {
      for (const [k, t] of this.#seen) if (t <= now || this.#seen.size > REPLAY_MAX) this.#seen.delete(k);
    }
    return true;
  };

  async receive(sourceId: string, req: WebhookRequest): Promise<WebhookAnswer> {
    const source = await this.sources.record(sourceId);
    const kind = sourceKindById(source.kind);
    if (!kind) throw new ClientError(404, "not_found", `source ${sourceId} has an unknown kind`);
    const settings = this.sources.resolveSettings(source);
    const now = this.now();
    const ctx: SourceContext = { now, sourceId, firstSeen: this.#firstSeen };
    const refusal = await kind.verify(req, settings, ctx);
    if (refusal) {
      await this.store.sources.record(sourceId, { signatureFailure: refusal.signature, error: refusal.error }, now);
      this.logger.info({ sourceId, kind: kind.id, status: refusal.status, reason: refusal.error }, "source webhook refused");
      return { status: refusal.status, body: { error: { code: refusal.signature ? "bad_signature" : "unreadable", message: refusal.error } } };
    }
    let providerEvents;
    try {
      providerEvents = kind.split(req);
    } catch (error) {
      if (!(error instanceof UnreadablePayload)) throw error;
      await this.store.sources.record(sourceId, { error: `unreadable payload: ${error.message}` }, now);
      return { status: kind.unreadableStatus ?? 400, body: { error: { code: "unreadable", message: error.message } } };
    }
    const events: Record<string, unknown>[] = [];
    const unmapped: Array<{ providerType: string; excerpt: string }> = [];
    const userIdField = String(settings.userIdField ?? "external_user_id");
    for (const pe of providerEvents) {
      const mapped = kind.map(pe, req);
      if (mapped.length === 0) unmapped.push({ providerType: pe.type, excerpt: JSON.stringify(pe.data).slice(0, EXCERPT) });
      for (const m of mapped) events.push(buildSourceEvent(kind, pe, m, userIdField));
    }
    let accepted = 0;
    let duplicates = 0;
    let rejected: Array<{ index: number; error: string }> = [];
    const produced: Record<string, number> = {};
    if (events.length > 0) {
      try {
        const r = await ingestEvents(this.store, source.workspace, { events, texts: events.map(() => undefined), refused: new Map() }, now, { strict: true });
        ({ accepted, duplicates, rejected } = r);
      } catch (error) {
        // Every mapped event failed strict validation (a mapping that needs fixing): counted, kept, not retried.
        if (!(error instanceof ClientError) || error.statusCode !== 400 || !error.answer) throw error;
        rejected = error.answer.rejected as typeof rejected;
      }
      const refusedIndexes = new Set(rejected.map((r) => r.index));
      events.forEach((e, i) => { if (!refusedIndexes.has(i)) produced[String(e.event_type)] = (produced[String(e.event_type)] ?? 0) + 1; });
      for (const r of rejected) unmapped.push({ providerType: `invalid ${String(events[r.index]?.event_type)}`, excerpt: r.error.slice(0, EXCERPT) });
    }
    await this.store.sources.record(sourceId, { produced, unmapped, ...(rejected.length > 0 ? { error: `mapped events failed validation: ${rejected[0]?.error}` } : {}) }, now);
    return { status: 200, body: { accepted, duplicates, unmapped: unmapped.length } };
  }
}
