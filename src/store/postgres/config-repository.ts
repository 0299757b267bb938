import type pg from "pg";
import type { CurrentProgress, CurrentRecord, ProgressUpdate } from "../../currents/model.js";
import type { AuditEntry, ConfigRepository, HistoryEntry, IngestKeyRecord, MinutePoint } from "../port.js";
import { type AuditRow, type CurrentRow, type HistoryRow, type KeyRow, type MinuteRow, type ProgressRow, progressParams, toAudit, toHistory, toKey, toMinute, toProgress, toRecord, toRow } from "../rows.js";
import { guarded } from "./errors.js";

const CURRENT_COLUMNS = ["id", "workspace_id", "name", "partner", "contact_email", "settings", "secrets_enc", "secret_hints", "events",
  "transformations", "batching", "status", "status_reason", "status_since", "created_at", "updated_at", "launched_at", "version"] as const;

/**
 * A Current's progress moved: $1 id, $2 acked seq (null: unchanged), then the counters' deltas
 * and the last delivery and error. Its commit does not wait for the WAL to reach the disk
 * (synchronous_commit off for this transaction only): server mode writes a position per
 * batch, and waiting for that fsync held each batch's slot (sampled: the most common wait of
 * the delivery path). Safe for at-least-once: if PostgreSQL itself crashes, the last few
 * hundred milliseconds of position writes may be lost and those batches are sent again; the WAL
 * is replayed in order, so a dead letter committed before a position is never lost while the
 * position survives. Other sessions see the position at once (visibility does not wait).
 */
const UPDATE_PROGRESS_SQL = `WITH no_wait AS (SELECT set_config('synchronous_commit', 'off', true) AS v)
  UPDATE current_progress SET
    acked_seq = greatest(acked_seq, coalesce($2, acked_seq)),
    delivered = delivered + $3, failed_attempts = failed_attempts + $4, dead_lettered = dead_lettered + $5,
    expired = expired + $6, last_delivered_at = coalesce($7, last_delivered_at),
    last_error = CASE WHEN $8 = 1 THEN $9 ELSE last_error END, last_error_at = coalesce($10, last_error_at),
    values_cut = values_cut + $11
  WHERE current_id = $1 AND (SELECT v FROM no_wait) = 'off'`;

export class PostgresConfigRepository implements ConfigRepository {
  constructor(private readonly pool: pg.Pool) {}

  async #rows<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await guarded(() => this.pool.query<R>(sql, params))).rows;
  }

  async #run(sql: string, params: unknown[] = []): Promise<number> {
    return (await guarded(() => this.pool.query(sql, params))).rowCount ?? 0;
  }

  /** Runs statements in one transaction on one connection. */
  async #tx(fn: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await guarded(() => this.pool.connect());
    try {
      await client.query("BEGIN");
      await fn(client);
      await client.query("COMMIT");
      client.release();
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      client.release(error as Error);
      throw error;
    }
  }

  async getSetting(key: string): Promise<string | undefined> {
    return (await this.#rows<{ value: string }>("SELECT value FROM settings WHERE key = $1", [key]))[0]?.value;
  }

  async setSetting(key: string, value: string): Promise<void> {
    await this.#run("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value]);
  }

  async ensureWorkspace(id: string, now: number): Promise<void> {
    await this.#run("INSERT INTO workspaces (id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING", [id, now]);
  }

  async listWorkspaces(): Promise<string[]> {
    return (await this.#rows<{ id: string }>("SELECT id FROM workspaces ORDER BY id")).map((r) => r.id);
  }

  async strictWorkspaces(): Promise<string[]> {
    return (await this.#rows<{ id: string }>("SELECT id FROM workspaces WHERE strict ORDER BY id")).map((r) => r.id);
  }

  async setWorkspaceStrict(id: string, strict: boolean): Promise<boolean> {
    return (await this.#run("UPDATE workspaces SET strict = $2 WHERE id = $1", [id, strict])) > 0;
  }

  async insertIngestKey(k: IngestKeyRecord): Promise<void> {
    await this.#run("INSERT INTO ingest_keys (id, workspace_id, key_hash, hint, created_at, revoked_at, strict) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      [k.id, k.workspace, k.keyHash, k.hint, k.createdAt, k.revokedAt, k.strict]);
  }

  async findIngestKey(keyHash: string): Promise<IngestKeyRecord | undefined> {
    const row = (await this.#rows<KeyRow>("SELECT * FROM ingest_keys WHERE key_hash = $1", [keyHash]))[0];
    return row && toKey(row);
  }

  async listIngestKeys(workspace?: string): Promise<IngestKeyRecord[]> {
    const rows = workspace === undefined
      ? await this.#rows<KeyRow>("SELECT * FROM ingest_keys ORDER BY created_at, id")
      : await this.#rows<KeyRow>("SELECT * FROM ingest_keys WHERE workspace_id = $1 ORDER BY created_at, id", [workspace]);
    return rows.map(toKey);
  }

  async revokeIngestKey(id: string, now: number): Promise<boolean> {
    return (await this.#run("UPDATE ingest_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", [now, id])) > 0;
  }

  async insertCurrent(c: CurrentRecord, p: CurrentProgress): Promise<void> {
    const row = toRow(c);
    await this.#tx(async (client) => {
      await client.query(`INSERT INTO currents (${CURRENT_COLUMNS.join(", ")}) VALUES (${CURRENT_COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})`,
        CURRENT_COLUMNS.map((k) => row[k]));
      await client.query(`INSERT INTO current_progress (current_id, acked_seq, delivered, failed_attempts, dead_lettered, expired,
        last_delivered_at, last_error, last_error_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [c.id, p.ackedSeq, p.delivered, p.failedAttempts, p.deadLettered, p.expired, p.lastDeliveredAt, p.lastError, p.lastErrorAt]);
    });
  }

  async updateCurrent(c: CurrentRecord, setAckedSeq?: number): Promise<boolean> {
    const row = toRow(c);
    const columns = CURRENT_COLUMNS.filter((k) => k !== "id" && k !== "workspace_id" && k !== "created_at" && k !== "version");
    let written = false;
    await this.#tx(async (client) => {
      written = ((await client.query(`UPDATE currents SET ${columns.map((k, i) => `${k} = $${i + 3}`).join(", ")}, version = version + 1 WHERE id = $1 AND version = $2`,
        [c.id, c.version, ...columns.map((k) => row[k])])).rowCount ?? 0) > 0;
      if (written && setAckedSeq !== undefined) {
        await client.query("UPDATE current_progress SET acked_seq = $2 WHERE current_id = $1", [c.id, setAckedSeq]);
        await client.query("DELETE FROM partition_positions WHERE current_id = $1", [c.id]);
      }
    });
    return written;
  }

  async replaceSecrets(sealed: ReadonlyArray<{ id: string; secretsEnc: string; source?: boolean }>): Promise<void> {
    await this.#tx(async (client) => {
      for (const x of sealed) await client.query(`UPDATE ${x.source ? "sources" : "currents"} SET secrets_enc = $1 WHERE id = $2`, [x.secretsEnc, x.id]);
    });
  }

  async deleteCurrent(id: string): Promise<boolean> {
    return (await this.#run("DELETE FROM currents WHERE id = $1", [id])) > 0;
  }

  async getCurrent(id: string): Promise<CurrentRecord | undefined> {
    const row = (await this.#rows<CurrentRow>("SELECT * FROM currents WHERE id = $1", [id]))[0];
    return row && toRecord(row);
  }

  async listCurrents(workspace?: string): Promise<CurrentRecord[]> {
    const rows = workspace === undefined
      ? await this.#rows<CurrentRow>("SELECT * FROM currents ORDER BY created_at, id")
      : await this.#rows<CurrentRow>("SELECT * FROM currents WHERE workspace_id = $1 ORDER BY created_at, id", [workspace]);
    return rows.map(toRecord);
  }

  async addAudit(e: Omit<AuditEntry, "id">): Promise<void> {
    await this.#run("INSERT INTO audit_log (at, actor, action, target, status, ip, request_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      [e.at, e.actor, e.action, e.target, e.status, e.ip, e.requestId]);
  }

  async listAudit(limit: number, beforeId = Number.MAX_SAFE_INTEGER): Promise<AuditEntry[]> {
    return (await this.#rows<AuditRow>("SELECT * FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2", [beforeId, limit])).map(toAudit);
  }

  async upsertMinutes(points: readonly MinutePoint[]): Promise<void> {
    if (points.length === 0) return;
    await this.#tx(async (client) => {
      for (const p of points) {
        await client.query(`INSERT INTO current_minutes (current_id, minute, delivered, failed, p50_ms, p99_ms, backlog, oldest_age_ms)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (current_id, minute) DO UPDATE SET
          delivered = current_minutes.delivered + excluded.delivered, failed = current_minutes.failed + excluded.failed,
          p50_ms = coalesce(excluded.p50_ms, current_minutes.p50_ms), p99_ms = coalesce(excluded.p99_ms, current_minutes.p99_ms),
          backlog = coalesce(excluded.backlog, current_minutes.backlog), oldest_age_ms = coalesce(excluded.oldest_age_ms, current_minutes.oldest_age_ms)`,
        [p.currentId, p.minute, p.delivered, p.failed, p.p50Ms, p.p99Ms, p.backlog, p.oldestAgeMs]);
        const types = Object.entries(p.byType ?? {});
        if (types.length === 0) continue;
        await client.query(`INSERT INTO minute_types (current_id, minute, event_type, delivered) SELECT $1, $2, t, n FROM unnest($3::text[], $4::bigint[]) AS x(t, n)
          ON CONFLICT (current_id, minute, event_type) DO UPDATE SET delivered = minute_types.delivered + excluded.delivered`,
        [p.currentId, p.minute, types.map(([t]) => t), types.map(([, n]) => n)]);
      }
    });
  }

  async listMinutes(currentId: string, sinceMinute: number): Promise<MinutePoint[]> {
    return (await this.#rows<MinuteRow>("SELECT * FROM current_minutes WHERE current_id = $1 AND minute >= $2 ORDER BY minute", [currentId, sinceMinute])).map(toMinute);
  }

  async deliveredSince(currentId: string, sinceMinute: number): Promise<number> {
    return (await this.#rows<{ n: number }>("SELECT coalesce(sum(delivered), 0)::bigint AS n FROM current_minutes WHERE current_id = $1 AND minute >= $2", [currentId, sinceMinute]))[0]?.n ?? 0;
  }

  async deleteMinutesBefore(minute: number): Promise<number> {
    await this.#run("DELETE FROM minute_types WHERE minute < $1", [minute]);
    return this.#run("DELETE FROM current_minutes WHERE minute < $1", [minute]);
  }

  async deliveredByType(currentId: string, sinceMinute: number): Promise<Array<{ type: string; delivered: number }>> {
    return (await this.#rows<{ type: string; delivered: number }>(`SELECT event_type AS type, sum(delivered)::bigint AS delivered FROM minute_types
      WHERE current_id = $1 AND minute >= $2 GROUP BY event_type ORDER BY delivered DESC, event_type`, [currentId, sinceMinute])).map((r) => ({ type: r.type, delivered: Number(r.delivered) }));
  }

  async addHistory(e: Omit<HistoryEntry, "id">): Promise<void> {
    await this.#run("INSERT INTO current_history (current_id, at, kind, status, message) VALUES ($1, $2, $3, $4, $5)", [e.currentId, e.at, e.kind, e.status, e.message]);
  }

  async listHistory(currentId: string, limit: number): Promise<HistoryEntry[]> {
    return (await this.#rows<HistoryRow>("SELECT * FROM current_history WHERE current_id = $1 ORDER BY id DESC LIMIT $2", [currentId, limit])).map(toHistory);
  }

  async pruneHistory(before: number, maxRows: number): Promise<number> {
    return this.#run("DELETE FROM current_history WHERE id IN (SELECT id FROM current_history WHERE at < $1 ORDER BY at LIMIT $2)", [before, maxRows]);
  }

  async pruneAudit(before: number, maxRows: number): Promise<number> {
    return this.#run("DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < $1 ORDER BY at LIMIT $2)", [before, maxRows]);
  }

  async partitionPositions(currentId: string): Promise<Map<number, number>> {
    const rows = await this.#rows<{ partition: number; acked_seq: number }>("SELECT partition, acked_seq FROM partition_positions WHERE current_id = $1", [currentId]);
    return new Map(rows.map((r) => [r.partition, r.acked_seq]));
  }

  async getProgress(currentId: string): Promise<CurrentProgress | undefined> {
    const r = (await this.#rows<ProgressRow>("SELECT * FROM current_progress WHERE current_id = $1", [currentId]))[0];
    return r && toProgress(r);
  }

  async updateProgress(updates: readonly ProgressUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const only = updates[0] as ProgressUpdate;
    // The common case, one Current's own position: one statement is its own transaction
    // (one round trip instead of BEGIN, UPDATE, COMMIT).
    if (updates.length === 1 && !only.partition) {
      const p = progressParams(only);
      await this.#rows(UPDATE_PROGRESS_SQL, [p.currentId, p.ackedSeq, p.deliveredDelta, p.failedAttemptsDelta, p.deadLetteredDelta, p.expiredDelta, p.lastDeliveredAt, p.setError, p.lastError, p.lastErrorAt, p.valuesCutDelta]);
      return;
    }
    await this.#tx(async (client) => {
      for (const u of updates) {
        const p = progressParams(u);
        const part = u.partition;
        if (part && u.ackedSeq !== undefined) {
          // JetStream mode: the partition's position; the Current's is the lowest once every partition wrote one.
          await client.query(`INSERT INTO partition_positions (current_id, partition, acked_seq)
            SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM currents WHERE id = $1)
            ON CONFLICT (current_id, partition) DO UPDATE SET acked_seq = greatest(partition_positions.acked_seq, excluded.acked_seq)`,
          [u.currentId, part.index, u.ackedSeq]);
        }
        await client.query(UPDATE_PROGRESS_SQL,
          [p.currentId, part ? null : p.ackedSeq, p.deliveredDelta, p.failedAttemptsDelta, p.deadLetteredDelta, p.expiredDelta, p.lastDeliveredAt, p.setError, p.lastError, p.lastErrorAt, p.valuesCutDelta]);
        if (part && u.ackedSeq !== undefined) {
          await client.query(`UPDATE current_progress SET acked_seq = greatest(acked_seq, m.lowest)
            FROM (SELECT min(acked_seq) AS lowest FROM partition_positions WHERE current_id = $1 HAVING count(*) >= $2) m
            WHERE current_id = $1`, [u.currentId, part.of]);
        }
      }
    });
  }
}
