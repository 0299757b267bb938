import type pg from "pg";
import type { SourceRecord, SourceRequestOutcome, SourceStats, SourceStore } from "../port.js";
import { type SourceRow, UNMAPPED_KEPT, toSource } from "../rows.js";
import { guarded } from "./errors.js";
import { inTransaction } from "./transaction.js";

export class PostgresSourceStore implements SourceStore {
  constructor(private readonly pool: pg.Pool) {}

  #tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }

  async insert(s: SourceRecord): Promise<void> {
    await guarded(() => this.pool.query(`INSERT INTO sources (id, workspace_id, kind, name, settings, secrets_enc, secret_hints, created_at, updated_at)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [s.id, s.workspace, s.kind, s.name, JSON.stringify(s.settings), s.secretsEnc, JSON.stringify(s.secretHints), s.createdAt, s.updatedAt]));
  }

  async update(s: SourceRecord): Promise<boolean> {
    const r = await guarded(() => this.pool.query("UPDATE sources SET name = $1, settings = $2, secrets_enc = $3, secret_hints = $4, updated_at = $5 WHERE id = $6",
      [s.name, JSON.stringify(s.settings), s.secretsEnc, JSON.stringify(s.secretHints), s.updatedAt, s.id]));
    return (r.rowCount ?? 0) > 0;
  }

  async get(id: string): Promise<SourceRecord | undefined> {
    const r = (await guarded(() => this.pool.query<SourceRow>("SELECT * FROM sources WHERE id = $1", [id]))).rows[0];
    return r && toSource(r);
  }

  async list(workspace?: string): Promise<SourceRecord[]> {
    const r = workspace === undefined
      ? await guarded(() => this.pool.query<SourceRow>("SELECT * FROM sources ORDER BY created_at, id"))
      : await guarded(() => this.pool.query<SourceRow>("SELECT * FROM sources WHERE workspace_id = $1 ORDER BY created_at, id", [workspace]));
    return r.rows.map(toSource);
  }

  async delete(id: string): Promise<boolean> {
    return this.#tx(async (c) => {
      await c.query("DELETE FROM source_type_counts WHERE source_id = $1", [id]);
      await c.query("DELETE FROM source_unmapped WHERE source_id = $1", [id]);
      return ((await c.query("DELETE FROM sources WHERE id = $1", [id])).rowCount ?? 0) > 0;
    });
  }

  async record(id: string, o: SourceRequestOutcome, now: number): Promise<void> {
    const unmapped = (o.unmapped ?? []).slice(-UNMAPPED_KEPT);
    await this.#tx(async (c) => {
      await c.query(`UPDATE sources SET requests = requests + 1, signature_failures = signature_failures + $1, unmapped = unmapped + $2,
        last_error = coalesce($3, last_error), last_error_at = CASE WHEN $3::text IS NULL THEN last_error_at ELSE $4 END WHERE id = $5`,
      [o.signatureFailure ? 1 : 0, (o.unmapped ?? []).length, o.error ?? null, now, id]);
      for (const [type, n] of Object.entries(o.produced ?? {})) {
        await c.query(`INSERT INTO source_type_counts (source_id, event_type, n) VALUES ($1, $2, $3)
          ON CONFLICT (source_id, event_type) DO UPDATE SET n = source_type_counts.n + excluded.n`, [id, type, n]);
      }
      if (unmapped.length === 0) return;
      for (const u of unmapped) await c.query("INSERT INTO source_unmapped (source_id, at, provider_type, excerpt) VALUES ($1, $2, $3, $4)", [id, now, u.providerType, u.excerpt]);
      await c.query(`DELETE FROM source_unmapped WHERE source_id = $1 AND id <= coalesce((SELECT id FROM source_unmapped WHERE source_id = $1
        ORDER BY id DESC LIMIT 1 OFFSET $2), 0)`, [id, UNMAPPED_KEPT]);
    });
  }

  async stats(id: string): Promise<SourceStats> {
    const r = (await guarded(() => this.pool.query<{ requests: number; signature_failures: number; unmapped: number; last_error: string | null; last_error_at: number | null }>(
      "SELECT requests, signature_failures, unmapped, last_error, last_error_at FROM sources WHERE id = $1", [id]))).rows[0];
    const types = (await guarded(() => this.pool.query<{ event_type: string; n: number }>("SELECT event_type, n FROM source_type_counts WHERE source_id = $1 ORDER BY event_type", [id]))).rows;
    return {
      requests: Number(r?.requests ?? 0), signatureFailures: Number(r?.signature_failures ?? 0), unmapped: Number(r?.unmapped ?? 0), lastError: r?.last_error ?? null,
      lastErrorAt: r?.last_error_at === null || r?.last_error_at === undefined ? null : Number(r.last_error_at), byType: Object.fromEntries(types.map((t) => [t.event_type, Number(t.n)])),
    };
  }

  async unmapped(id: string, limit: number): Promise<Array<{ at: number; providerType: string; excerpt: string }>> {
    const r = await guarded(() => this.pool.query<{ at: number; provider_type: string; excerpt: string }>(
      "SELECT at, provider_type, excerpt FROM source_unmapped WHERE source_id = $1 ORDER BY id DESC LIMIT $2", [id, limit]));
    return r.rows.map((x) => ({ at: Number(x.at), providerType: x.provider_type, excerpt: x.excerpt }));
  }
}
