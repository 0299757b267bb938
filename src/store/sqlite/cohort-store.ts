import type Database from "better-sqlite3";
import type { CohortChange, CohortMember, CohortRecord, CohortStore, DataImportKeyRecord } from "../port.js";
import { type CohortRow, type ImportKeyRow, likePattern, memberKey, toChange, toCohort, toImportKey } from "../cohort-rows.js";

export class SqliteCohortStore implements CohortStore {
  constructor(private readonly db: Database.Database) {}

  async upsert(c: Omit<CohortRecord, "id" | "importedAt" | "updatedAt" | "size" | "version">, newId: string, now: number, requestId: string): Promise<CohortRecord> {
    return this.db.transaction(() => {
      this.db.prepare(`INSERT INTO cohorts (id, workspace_id, partner, cohort_id, name, created_at, imported_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (workspace_id, partner, cohort_id) DO UPDATE SET name = excluded.name, created_at = excluded.created_at, updated_at = excluded.updated_at`)
        .run(newId, c.workspace, c.partner, c.cohortId, c.name, c.createdAt, now, now);
      const row = this.db.prepare("SELECT * FROM cohorts WHERE workspace_id = ? AND partner = ? AND cohort_id = ?").get(c.workspace, c.partner, c.cohortId) as CohortRow;
      this.db.prepare("INSERT INTO cohort_changes (cohort, at, request_id, joined, left_count, size_after, name) VALUES (?, ?, ?, 0, 0, ?, ?)")
        .run(row.id, now, requestId, row.size, c.name);
      return toCohort(row);
    })();
  }

  async get(id: string): Promise<CohortRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM cohorts WHERE id = ?").get(id) as CohortRow | undefined;
    return r && toCohort(r);
  }

  async find(workspace: string, partner: string, cohortId: string): Promise<CohortRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM cohorts WHERE workspace_id = ? AND partner = ? AND cohort_id = ?").get(workspace, partner, cohortId) as CohortRow | undefined;
    return r && toCohort(r);
  }

  async list(q: { workspace?: string; search?: string; limit: number; afterId?: string }): Promise<CohortRecord[]> {
    const rows = this.db.prepare(`SELECT * FROM cohorts WHERE (? IS NULL OR workspace_id = ?) AND id > ?
      AND (? IS NULL OR lower(name) LIKE ? ESCAPE '\\' OR cohort_id = ?) ORDER BY id LIMIT ?`)
      .all(q.workspace ?? null, q.workspace ?? null, q.afterId ?? "", q.search ?? null, q.search ? likePattern(q.search) : null, q.search ?? null, q.limit) as CohortRow[];
    return rows.map(toCohort);
  }

  async apply(id: string, add: readonly CohortMember[], remove: readonly CohortMember[], now: number, requestId: string) {
    return this.db.transaction(() => {
      const insert = this.db.prepare("INSERT INTO cohort_members (cohort, kind, member, since) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING");
      const del = this.db.prepare("DELETE FROM cohort_members WHERE cohort = ? AND kind = ? AND member = ?");
      const joined = add.filter((m) => insert.run(id, m.kind, m.key, now).changes > 0);
      const left = remove.filter((m) => del.run(id, m.kind, m.key).changes > 0);
      const changed = joined.length > 0 || left.length > 0 ? 1 : 0;
      this.db.prepare("UPDATE cohorts SET size = size + ?, updated_at = ?, version = version + ? WHERE id = ?").run(joined.length - left.length, now, changed, id);
      const size = (this.db.prepare("SELECT size FROM cohorts WHERE id = ?").get(id) as { size: number } | undefined)?.size ?? 0;
      if (joined.length > 0 || left.length > 0) {
        this.db.prepare("INSERT INTO cohort_changes (cohort, at, request_id, joined, left_count, size_after, name) VALUES (?, ?, ?, ?, ?, ?, NULL)")
          .run(id, now, requestId, joined.length, left.length, size);
      }
      return { joined, left, size };
    })();
  }

  async present(id: string, members: readonly CohortMember[]): Promise<Set<string>> {
    const get = this.db.prepare("SELECT 1 FROM cohort_members WHERE cohort = ? AND kind = ? AND member = ?");
    return new Set(members.filter((m) => get.get(id, m.kind, m.key) !== undefined).map(memberKey));
  }

  async members(id: string, limit: number, after?: CohortMember): Promise<Array<CohortMember & { since: number }>> {
    const rows = this.db.prepare(`SELECT kind, member, since FROM cohort_members WHERE cohort = ? AND (kind, member) > (?, ?) ORDER BY kind, member LIMIT ?`)
      .all(id, after?.kind ?? "", after?.key ?? "", limit) as Array<{ kind: CohortMember["kind"]; member: string; since: number }>;
    return rows.map((r) => ({ kind: r.kind, key: r.member, since: r.since }));
  }

  async cohortsOf(workspace: string, member: CohortMember): Promise<Array<CohortRecord & { since: number }>> {
    const rows = this.db.prepare(`SELECT c.*, m.since FROM cohort_members m JOIN cohorts c ON c.id = m.cohort
      WHERE m.kind = ? AND m.member = ? AND c.workspace_id = ? ORDER BY c.name, c.id`).all(member.kind, member.key, workspace) as Array<CohortRow & { since: number }>;
    return rows.map((r) => ({ ...toCohort(r), since: r.since }));
  }

  async history(id: string, limit: number): Promise<CohortChange[]> {
    return (this.db.prepare("SELECT * FROM cohort_changes WHERE cohort = ? ORDER BY id DESC LIMIT ?").all(id, limit) as Parameters<typeof toChange>[0][]).map(toChange);
  }

  async insertImportKey(k: DataImportKeyRecord): Promise<void> {
    this.db.prepare("INSERT INTO data_import_keys (id, workspace_id, key_hash, hint, created_at) VALUES (?, ?, ?, ?, ?)").run(k.id, k.workspace, k.keyHash, k.hint, k.createdAt);
  }

  async findImportKey(keyHash: string): Promise<DataImportKeyRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM data_import_keys WHERE key_hash = ?").get(keyHash) as ImportKeyRow | undefined;
    return r && toImportKey(r);
  }

  async listImportKeys(workspace?: string): Promise<DataImportKeyRecord[]> {
    const rows = this.db.prepare("SELECT * FROM data_import_keys WHERE (? IS NULL OR workspace_id = ?) ORDER BY created_at, id").all(workspace ?? null, workspace ?? null) as ImportKeyRow[];
    return rows.map(toImportKey);
  }

  async deleteImportKey(id: string): Promise<boolean> {
    return this.db.prepare("DELETE FROM data_import_keys WHERE id = ?").run(id).changes > 0;
  }
}
