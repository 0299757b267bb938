import type pg from "pg";
import type { CohortChange, CohortMember, CohortRecord, CohortStore, DataImportKeyRecord } from "../port.js";
import { type CohortRow, type ImportKeyRow, likePattern, memberKey, toChange, toCohort, toImportKey } from "../cohort-rows.js";
import { guarded } from "./errors.js";
import { inTransaction } from "./transaction.js";

export class PostgresCohortStore implements CohortStore {
  constructor(private readonly pool: pg.Pool) {}

  async #rows<T extends pg.QueryResultRow>(sql: string, params: unknown[]): Promise<T[]> {
    return (await guarded(() => this.pool.query<T>(sql, params))).rows;
  }

  async upsert(c: Omit<CohortRecord, "id" | "importedAt" | "updatedAt" | "size" | "version">, newId: string, now: number, requestId: string): Promise<CohortRecord> {
    return inTransaction(this.pool, async (db) => {
      const row = (await db.query<CohortRow>(`INSERT INTO cohorts (id, workspace_id, partner, cohort_id, name, created_at, imported_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
        ON CONFLICT (workspace_id, partner, cohort_id) DO UPDATE SET name = excluded.name, created_at = excluded.created_at, updated_at = excluded.updated_at
        RETURNING *`, [newId, c.workspace, c.partner, c.cohortId, c.name, c.createdAt, now])).rows[0] as CohortRow;
      await db.query("INSERT INTO cohort_changes (cohort, at, request_id, joined, left_count, size_after, name) VALUES ($1, $2, $3, 0, 0, $4, $5)",
        [row.id, now, requestId, row.size, c.name]);
      return toCohort(row);
    });
  }

  async get(id: string): Promise<CohortRecord | undefined> {
    const r = (await this.#rows<CohortRow>("SELECT * FROM cohorts WHERE id = $1", [id]))[0];
    return r && toCohort(r);
  }

  async find(workspace: string, partner: string, cohortId: string): Promise<CohortRecord | undefined> {
    const r = (await this.#rows<CohortRow>("SELECT * FROM cohorts WHERE workspace_id = $1 AND partner = $2 AND cohort_id = $3", [workspace, partner, cohortId]))[0];
    return r && toCohort(r);
  }

  async list(q: { workspace?: string; search?: string; limit: number; afterId?: string }): Promise<CohortRecord[]> {
    const rows = await this.#rows<CohortRow>(`SELECT * FROM cohorts WHERE ($1::text IS NULL OR workspace_id = $1) AND id > $2
      AND ($3::text IS NULL OR lower(name) LIKE $4 ESCAPE '\\' OR cohort_id = $3) ORDER BY id LIMIT $5`,
    [q.workspace ?? null, q.afterId ?? "", q.search ?? null, q.search ? likePattern(q.search) : null, q.limit]);
    return rows.map(toCohort);
  }

  async apply(id: string, add: readonly CohortMember[], remove: readonly CohortMember[], now: number, requestId: string) {
    return inTransaction(this.pool, async (db) => {
      // The cohort row is locked first: two requests changing one cohort are serialised here too.
      await db.query("SELECT 1 FROM cohorts WHERE id = $1 FOR UPDATE", [id]);
      const joinedRows = add.length === 0 ? [] : (await db.query<{ kind: CohortMember["kind"]; member: string }>(
        `INSERT INTO cohort_members (cohort, kind, member, since) SELECT $1, k, m, $4 FROM unnest($2::text[], $3::text[]) AS x(k, m)
         ON CONFLICT DO NOTHING RETURNING kind, member`, [id, add.map((m) => m.kind), add.map((m) => m.key), now])).rows;
      // Per-member index look-ups (LATERAL ... LIMIT 1): never a scan of a large cohort, whatever the planner's statistics say.
      const leftRows = remove.length === 0 ? [] : (await db.query<{ kind: CohortMember["kind"]; member: string }>(
        `DELETE FROM cohort_members c WHERE c.ctid = ANY(ARRAY(
           SELECT hit.ctid FROM unnest($2::text[], $3::text[]) AS x(k, m)
           CROSS JOIN LATERAL (SELECT ctid FROM cohort_members WHERE cohort = $1 AND kind = x.k AND member = x.m LIMIT 1) hit))
         RETURNING c.kind, c.member`, [id, remove.map((m) => m.kind), remove.map((m) => m.key)])).rows;
      const changed = joinedRows.length > 0 || leftRows.length > 0 ? 1 : 0;
      const size = Number((await db.query<{ size: number }>("UPDATE cohorts SET size = size + $2, updated_at = $3, version = version + $4 WHERE id = $1 RETURNING size",
        [id, joinedRows.length - leftRows.length, now, changed])).rows[0]?.size ?? 0);
      if (joinedRows.length > 0 || leftRows.length > 0) {
        await db.query("INSERT INTO cohort_changes (cohort, at, request_id, joined, left_count, size_after, name) VALUES ($1, $2, $3, $4, $5, $6, NULL)",
          [id, now, requestId, joinedRows.length, leftRows.length, size]);
      }
      const member = (r: { kind: CohortMember["kind"]; member: string }): CohortMember => ({ kind: r.kind, key: r.member });
      return { joined: joinedRows.map(member), left: leftRows.map(member), size };
    });
  }

  async present(id: string, members: readonly CohortMember[]): Promise<Set<string>> {
    if (members.length === 0) return new Set();
    const rows = await this.#rows<{ kind: string; member: string }>(`SELECT x.k AS kind, x.m AS member FROM unnest($2::text[], $3::text[]) AS x(k, m)
      CROSS JOIN LATERAL (SELECT 1 FROM cohort_members c WHERE c.cohort = $1 AND c.kind = x.k AND c.member = x.m LIMIT 1) hit`, [id, members.map((m) => m.kind), members.map((m) => m.key)]);
    return new Set(rows.map((r) => memberKey({ kind: r.kind, key: r.member })));
  }

  async members(id: string, limit: number, after?: CohortMember): Promise<Array<CohortMember & { since: number }>> {
    const rows = await this.#rows<{ kind: CohortMember["kind"]; member: string; since: number }>(
      "SELECT kind, member, since FROM cohort_members WHERE cohort = $1 AND (kind, member) > ($2, $3) ORDER BY kind, member LIMIT $4",
      [id, after?.kind ?? "", after?.key ?? "", limit]);
    return rows.map((r) => ({ kind: r.kind, key: r.member, since: Number(r.since) }));
  }

  async cohortsOf(workspace: string, member: CohortMember): Promise<Array<CohortRecord & { since: number }>> {
    const rows = await this.#rows<CohortRow & { since: number }>(`SELECT c.*, m.since FROM cohort_members m JOIN cohorts c ON c.id = m.cohort
      WHERE m.kind = $1 AND m.member = $2 AND c.workspace_id = $3 ORDER BY c.name, c.id`, [member.kind, member.key, workspace]);
    return rows.map((r) => ({ ...toCohort(r), since: Number(r.since) }));
  }

  async history(id: string, limit: number): Promise<CohortChange[]> {
    return (await this.#rows<Parameters<typeof toChange>[0]>("SELECT * FROM cohort_changes WHERE cohort = $1 ORDER BY id DESC LIMIT $2", [id, limit])).map(toChange);
  }

  async insertImportKey(k: DataImportKeyRecord): Promise<void> {
    await this.#rows("INSERT INTO data_import_keys (id, workspace_id, key_hash, hint, created_at) VALUES ($1, $2, $3, $4, $5)", [k.id, k.workspace, k.keyHash, k.hint, k.createdAt]);
  }

  async findImportKey(keyHash: string): Promise<DataImportKeyRecord | undefined> {
    const r = (await this.#rows<ImportKeyRow>("SELECT * FROM data_import_keys WHERE key_hash = $1", [keyHash]))[0];
    return r && toImportKey(r);
  }

  async listImportKeys(workspace?: string): Promise<DataImportKeyRecord[]> {
    return (await this.#rows<ImportKeyRow>("SELECT * FROM data_import_keys WHERE ($1::text IS NULL OR workspace_id = $1) ORDER BY created_at, id", [workspace ?? null])).map(toImportKey);
  }

  async deleteImportKey(id: string): Promise<boolean> {
    return ((await guarded(() => this.pool.query("DELETE FROM data_import_keys WHERE id = $1", [id]))).rowCount ?? 0) > 0;
  }
}
