import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { ClientError, invalid, notFound } from "../errors.js";
import { ingestEvents } from "../ingest/ingest-events.js";
import { credentialMatches, hashCredential } from "../security/credentials.js";
import { memberKey } from "../store/cohort-rows.js";
import type { CohortChange, CohortMember, CohortRecord, MemberKind, Store } from "../store/port.js";
import { ENTER, EXIT, cohortEvent } from "./cohort-events.js";
import { type CohortBody, type MembershipBody, cohortIdOf, createdAtOf, netChanges } from "./import-request.js";
import type { DataImportKeys } from "./import-keys.js";

/** How long one request may hold a cohort (a crashed holder's lock lapses after this). */
const LOCK_MS = 30_000;
const PARTNER = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export interface CohortServiceOptions {
  readonly store: Store;
  readonly keys: DataImportKeys;
  /** When set, `partner_api_key` must equal it. */
  readonly partnerApiKey?: string;
  readonly logger: Logger;
  readonly now: () => number;
  /** Called after cohort events were stored for a workspace (wakes its Currents). */
  readonly onEvents?: (workspace: string) => void;
}

/**
 * Cohorts from partners (SPEC section 15): the Partner Cohort Import API's two calls, the
 * queries, and the cohort events. A membership request holds its cohort with a short lease
 * (another request for the same cohort meanwhile answers 423), reads which members would
 * change, stores their Enter/Exit events (when some Current of the workspace selects them),
 * and only then applies the change: a failure anywhere leaves a retry to do the same again
 * with the same event ids, so nothing is lost and nothing is doubled.
 */
export class CohortService {
  readonly #partnerKeyHash: string | undefined;

  constructor(private readonly o: CohortServiceOptions) {
    this.#partnerKeyHash = o.partnerApiKey ? hashCredential(o.partnerApiKey) : undefined;
  }

  async #workspace(partner: string, body: { partner_api_key?: string; client_secret: string }): Promise<string> {
    if (!PARTNER.test(partner)) throw invalid("partner", "must be 1-32 lowercase letters, digits, '-' or '_'");
    if (this.#partnerKeyHash && !credentialMatches(body.partner_api_key ?? "", this.#partnerKeyHash)) {
      throw new ClientError(401, "unauthorized", "partner_api_key is not the one this Currents expects");
    }
    const workspace = await this.o.keys.workspaceOf(body.client_secret);
    if (!workspace) throw new ClientError(401, "unauthorized", "client_secret is not a valid data import key (create one in Partner Integrations > Cohorts)");
    return workspace;
  }

  /** `POST /partners/{partner}/cohorts`: creates or renames a cohort. */
  async importCohort(partner: string, body: CohortBody): Promise<CohortRecord> {
    const workspace = await this.#workspace(partner, body);
    const cohortId = cohortIdOf(body.cohort_id);
    const name = body.name.trim();
    if (name === "" || name.length > 255) throw invalid("name", "must be 1-255 characters");
    const createdAt = createdAtOf(body.created_at);
    return this.o.store.cohorts.upsert({ workspace, partner, cohortId, name, createdAt }, `coh_${randomUUID()}`, this.o.now(), randomUUID());
  }

  /** `POST /partners/{partner}/cohorts/users`: adds and removes members. */
  async importMembers(partner: string, body: MembershipBody): Promise<{ cohort: CohortRecord; joined: number; left: number }> {
    const workspace = await this.#workspace(partner, body);
    const cohortId = cohortIdOf(body.cohort_id);
    const { add, remove } = netChanges(body.cohort_changes);
    const found = await this.o.store.cohorts.find(workspace, partner, cohortId);
    if (!found) throw invalid("cohort_id", `no cohort ${cohortId} from ${partner} in this workspace; create it first with POST /partners/${partner}/cohorts`);
    const lock = `cohort:${found.id}`;
    const holder = randomUUID();
    if (!(await this.o.store.leases.acquire(lock, holder, LOCK_MS))) {
      throw new ClientError(423, "locked", `cohort ${cohortId} is being changed by another request; retry in a moment`).retryAfter(1);
    }
    try {
      const cohort = (await this.o.store.cohorts.get(found.id)) ?? found;
      const now = this.o.now();
      const present = await this.o.store.cohorts.present(cohort.id, [...add, ...remove]);
      const joining = add.filter((m) => !present.has(memberKey(m)));
      const leaving = remove.filter((m) => present.has(memberKey(m)));
      await this.#emit(cohort, joining, leaving, now);
      const r = await this.o.store.cohorts.apply(cohort.id, joining, leaving, now, holder);
      return { cohort: { ...cohort, size: r.size, updatedAt: now }, joined: r.joined.length, left: r.left.length };
    } finally {
      await this.o.store.leases.release(lock, holder).catch(() => undefined);
    }
  }

  /** Stores the Enter/Exit events when some (launched) Current of the workspace selects them. */
  async #emit(cohort: CohortRecord, joining: readonly CohortMember[], leaving: readonly CohortMember[], now: number): Promise<void> {
    if (joining.length === 0 && leaving.length === 0) return;
    const selected = new Set((await this.o.store.config.listCurrents(cohort.workspace)).filter((c) => c.status !== "draft").flatMap((c) => c.events));
    const events = [
      ...(selected.has(ENTER) ? joining.map((m) => cohortEvent(cohort, m, true, now)) : []),
      ...(selected.has(EXIT) ? leaving.map((m) => cohortEvent(cohort, m, false, now)) : []),
    ];
    if (events.length === 0) return;
    await ingestEvents(this.o.store, cohort.workspace, { events, texts: events.map(() => undefined), refused: new Map() }, now);
    this.o.onEvents?.(cohort.workspace);
  }

  async get(id: string): Promise<CohortRecord & { history: CohortChange[] }> {
    const c = await this.o.store.cohorts.get(id);
    if (!c) throw notFound(`cohort ${id}`);
    return { ...c, history: await this.o.store.cohorts.history(id, 200) };
  }

  list(q: { workspace?: string; search?: string; limit: number; afterId?: string }): Promise<CohortRecord[]> {
    return this.o.store.cohorts.list(q);
  }

  async members(id: string, limit: number, cursor?: string): Promise<{ members: Array<CohortMember & { since: number }>; next: string | null }> {
    if (!(await this.o.store.cohorts.get(id))) throw notFound(`cohort ${id}`);
    let after: CohortMember | undefined;
    if (cursor) {
      try {
        const [kind, key] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [MemberKind, string];
        after = { kind, key };
      } catch {
        throw invalid("cursor", "is not a cursor this API gave");
      }
    }
    const members = await this.o.store.cohorts.members(id, limit, after);
    const last = members[members.length - 1];
    return { members, next: members.length === limit && last ? Buffer.from(JSON.stringify([last.kind, last.key])).toString("base64url") : null };
  }

  cohortsOf(workspace: string, member: CohortMember) {
    return this.o.store.cohorts.cohortsOf(workspace, member);
  }
}
