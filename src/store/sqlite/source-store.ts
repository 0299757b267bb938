import type Database from "better-sqlite3";
import type { SourceRecord, SourceRequestOutcome, SourceStats, SourceStore } from "../port.js";
import { type SourceRow, UNMAPPED_KEPT, toSource } from "../rows.js";

export class SqliteSourceStore implements SourceStore {
  constructor(private readonly db: Database.Database) {}

  async insert(s: SourceRecord): Promise<void> {
    this.db.prepare(`INSERT INTO sources (id, workspace_id, kind, name, settings, secrets_enc, secret_hints, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(s.id, s.workspace, s.kind, s.name, JSON.stringify(s.settings), s.secretsEnc, JSON.stringify(s.secretHints), s.createdAt, s.updatedAt);
  }

  async update(s: SourceRecord): Promise<boolean> {
    return this.db.prepare("UPDATE sources SET name = ?, settings = ?, secrets_enc = ?, secret_hints = ?, updated_at = ? WHERE id = ?")
      .run(s.name, JSON.stringify(s.settings), s.secretsEnc, JSON.stringify(s.secretHints), s.updatedAt, s.id).changes > 0;
  }

  async get(id: string): Promise<SourceRecord | undefined> {
    const r = this.db.prepare("SELECT * FROM sources WHERE id = ?").get(id) as SourceRow | undefined;
    return r && toSource(r);
  }

  async list(workspace?: string): Promise<SourceRecord[]> {
    const rows = workspace === undefined
      ? this.db.prepare("SELECT * FROM sources ORDER BY created_at, id").all()
      : this.db.prepare("SELECT * FROM sources WHERE workspace_id = ? ORDER BY created_at, id").all(workspace);
    return (rows as SourceRow[]).map(toSource);
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction(() => {
      this.db.prepare("DELETE FROM source_type_counts WHERE source_id = ?").run(id);
      this.db.prepare("DELETE FROM source_unmapped WHERE source_id = ?").run(id);
      return this.db.prepare("DELETE FROM sources WHERE id = ?").run(id).changes > 0;
    })();
  }

  async record(id: string, o: SourceRequestOutcome, now: number): Promise<void> {
    const unmapped = o.unmapped ?? [];
    this.db.transaction(() => {
      this.db.prepare(`UPDATE sources SET requests = requests + 1, signature_failures = signature_failures + ?, unmapped = unmapped + ?,
        last_error = coalesce(?, last_error), last_error_at = CASE WHEN ? IS NULL THEN last_error_at ELSE ? END WHERE id = ?`)
        .run(o.signatureFailure ? 1 : 0, unmapped.length, o.error ?? null, o.error ?? null, now, id);
      const count = this.db.prepare(`INSERT INTO source_type_counts (source_id, event_type, n) VALUES (?, ?, ?)
        ON CONFLICT (source_id, event_type) DO UPDATE SET n = n + excluded.n`);
      for (const [type, n] of Object.entries(o.produced ?? {})) count.run(id, type, n);
      if (unmapped.length === 0) return;
      const add = this.db.prepare("INSERT INTO source_unmapped (source_id, at, provider_type, excerpt) VALUES (?, ?, ?, ?)");
      for (const u of unmapped.slice(-UNMAPPED_KEPT)) add.run(id, now, u.providerType, u.excerpt);
      this.db.prepare(`DELETE FROM source_unmapped WHERE source_id = ? AND id <= coalesce((SELECT id FROM source_unmapped WHERE source_id = ?
        ORDER BY id DESC LIMIT 1 OFFSET ?), 0)`).run(id, id, UNMAPPED_KEPT);
    })();
  }

  async stats(id: string): Promise<SourceStats> {
    const r = this.db.prepare("SELECT requests, signature_failures, unmapped, last_error, last_error_at FROM sources WHERE id = ?").get(id) as
      { requests: number; signature_failures: number; unmapped: number; last_error: string | null; last_error_at: number | null } | undefined;
    const types = this.db.prepare("SELECT event_type, n FROM source_type_counts WHERE source_id = ? ORDER BY event_type").all(id) as Array<{ event_type: string; n: number }>;
    return {
      requests: r?.requests ?? 0, signatureFailures: r?.signature_failures ?? 0, unmapped: r?.unmapped ?? 0, lastError: r?.last_error ?? null,
      lastErrorAt: r?.last_error_at ?? null, byType: Object.fromEntries(types.map((t) => [t.event_type, t.n])),
    };
  }

  async unmapped(id: string, limit: number): Promise<Array<{ at: number; providerType: string; excerpt: string }>> {
    return (this.db.prepare("SELECT at, provider_type, excerpt FROM source_unmapped WHERE source_id = ? ORDER BY id DESC LIMIT ?").all(id, limit) as
      Array<{ at: number; provider_type: string; excerpt: string }>).map((r) => ({ at: r.at, providerType: r.provider_type, excerpt: r.excerpt }));
  }
}
