import type Database from "better-sqlite3";
import type { CurrentProgress, CurrentRecord, ProgressUpdate } from "../../currents/model.js";
import type { AuditEntry, ConfigRepository, HistoryEntry, IngestKeyRecord, MinutePoint } from "../port.js";
import { type AuditRow, type CurrentRow, type HistoryRow, type KeyRow, type MinuteRow, type ProgressRow, progressParams, toAudit, toHistory, toKey, toMinute, toProgress, toRecord, toRow } from "../rows.js";

export class SqliteConfigRepository implements ConfigRepository {
  readonly #progressUpdate: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.#progressUpdate = db.prepare(`UPDATE current_progress SET
        acked_seq = max(acked_seq, coalesce(@ackedSeq, acked_seq)),
        delivered = delivered + @deliveredDelta,
        failed_attempts = failed_attempts + @failedAttemptsDelta,
        dead_lettered = dead_lettered + @deadLetteredDelta,
        expired = expired + @expiredDelta,
        last_delivered_at = coalesce(@lastDeliveredAt, last_delivered_at),
        last_error = CASE WHEN @setError THEN @lastError ELSE last_error END,
        last_error_at = coalesce(@lastErrorAt, last_error_at),
        values_cut = values_cut + @valuesCutDelta
      WHERE current_id = @currentId`);
  }

  async getSetting(key: string): Promise<string | undefined> {
    const row = this.db.prepare("SELECT value FROM settings WHERE key = ?").get(key) as { value: string } | undefined;
    return row?.value;
  }

  async setSetting(key: string, value: string): Promise<void> {
    this.db.prepare("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  async ensureWorkspace(id: string, now: number): Promise<void> {
    this.db.prepare("INSERT INTO workspaces (id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING").run(id, now);
  }

  async listWorkspaces(): Promise<string[]> {
    return (this.db.prepare("SELECT id FROM workspaces ORDER BY id").all() as { id: string }[]).map((r) => r.id);
  }

  async strictWorkspaces(): Promise<string[]> {
    return (this.db.prepare("SELECT id FROM workspaces WHERE strict = 1 ORDER BY id").all() as { id: string }[]).map((r) => r.id);
  }

  async setWorkspaceStrict(id: string, strict: boolean): Promise<boolean> {
    return this.db.prepare("UPDATE workspaces SET strict = ? WHERE id = ?").run(strict ? 1 : 0, id).changes > 0;
  }

  async insertIngestKey(k: IngestKeyRecord): Promise<void> {
    this.db
      .prepare("INSERT INTO ingest_keys (id, workspace_id, key_hash, hint, created_at, revoked_at, strict) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(k.id, k.workspace, k.keyHash, k.hint, k.createdAt, k.revokedAt, k.strict ? 1 : 0);
  }

  async findIngestKey(keyHash: string): Promise<IngestKeyRecord | undefined> {
    const row = this.db.prepare("SELECT * FROM ingest_keys WHERE key_hash = ?").get(keyHash) as KeyRow | undefined;
    return row && toKey(row);
  }

  async listIngestKeys(workspace?: string): Promise<IngestKeyRecord[]> {
    const rows = workspace === undefined
      ? this.db.prepare("SELECT * FROM ingest_keys ORDER BY created_at").all()
      : this.db.prepare("SELECT * FROM ingest_keys WHERE workspace_id = ? ORDER BY created_at").all(workspace);
    return (rows as KeyRow[]).map(toKey);
  }

  async revokeIngestKey(id: string, now: number): Promise<boolean> {
    return this.db.prepare("UPDATE ingest_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL").run(now, id).changes > 0;
  }

  async insertCurrent(c: CurrentRecord, p: CurrentProgress): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare(`INSERT INTO currents (id, workspace_id, name, partner, contact_email, settings, secrets_enc,
        secret_hints, events, transformations, batching, status, status_reason, status_since, created_at, updated_at,
        launched_at, version) VALUES (@id, @workspace_id, @name, @partner, @contact_email, @settings,
        @secrets_enc, @secret_hints, @events, @transformations, @batching, @status, @status_reason, @status_since,
        @created_at, @updated_at, @launched_at, @version)`).run(toRow(c));
      this.db.prepare(`INSERT INTO current_progress (current_id, acked_seq, delivered, failed_attempts, dead_lettered,
        expired, last_delivered_at, last_error, last_error_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(c.id, p.ackedSeq, p.delivered, p.failedAttempts, p.deadLettered, p.expired, p.lastDeliveredAt, p.lastError, p.lastErrorAt);
    })();
  }

  async updateCurrent(c: CurrentRecord, setAckedSeq?: number): Promise<boolean> {
    return this.db.transaction(() => {
      const written = this.db.prepare(`UPDATE currents SET name = @name, partner = @partner, contact_email = @contact_email,
      settings = @settings, secrets_enc = @secrets_enc, secret_hints = @secret_hints, events = @events,
      transformations = @transformations, batching = @batching, status = @status, status_reason = @status_reason,
      status_since = @status_since, updated_at = @updated_at, launched_at = @launched_at, version = version + 1
      WHERE id = @id AND version = @version`).run(toRow(c)).changes > 0;
      if (written && setAckedSeq !== undefined) this.db.prepare("UPDATE current_progress SET acked_seq = ? WHERE current_id = ?").run(setAckedSeq, c.id);
      return written;
    })();
  }

  async replaceSecrets(sealed: ReadonlyArray<{ id: string; secretsEnc: string; source?: boolean }>): Promise<void> {
    const st = this.db.prepare("UPDATE currents SET secrets_enc = ? WHERE id = ?");
    const source = this.db.prepare("UPDATE sources SET secrets_enc = ? WHERE id = ?");
    this.db.transaction(() => {
      for (const x of sealed) (x.source ? source : st).run(x.secretsEnc, x.id);
    })();
  }

  async deleteCurrent(id: string): Promise<boolean> {
    return this.db.prepare("DELETE FROM currents WHERE id = ?").run(id).changes > 0;
  }

  async getCurrent(id: string): Promise<CurrentRecord | undefined> {
    const row = this.db.prepare("SELECT * FROM currents WHERE id = ?").get(id) as CurrentRow | undefined;
    return row && toRecord(row);
  }

  async listCurrents(workspace?: string): Promise<CurrentRecord[]> {
    const rows = workspace === undefined
      ? this.db.prepare("SELECT * FROM currents ORDER BY created_at").all()
      : this.db.prepare("SELECT * FROM currents WHERE workspace_id = ? ORDER BY created_at").all(workspace);
    return (rows as CurrentRow[]).map(toRecord);
  }

  async addAudit(e: Omit<AuditEntry, "id">): Promise<void> {
    this.db.prepare("INSERT INTO audit_log (at, actor, action, target, status, ip, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(e.at, e.actor, e.action, e.target, e.status, e.ip, e.requestId);
  }

  async listAudit(limit: number, beforeId = Number.MAX_SAFE_INTEGER): Promise<AuditEntry[]> {
    return (this.db.prepare("SELECT * FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?").all(beforeId, limit) as AuditRow[]).map(toAudit);
  }

  async upsertMinutes(points: readonly MinutePoint[]): Promise<void> {
    const st = this.db.prepare(`INSERT INTO current_minutes (current_id, minute, delivered, failed, p50_ms, p99_ms, backlog, oldest_age_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (current_id, minute) DO UPDATE SET delivered = delivered + excluded.delivered,
      failed = failed + excluded.failed, p50_ms = coalesce(excluded.p50_ms, p50_ms), p99_ms = coalesce(excluded.p99_ms, p99_ms),
      backlog = coalesce(excluded.backlog, backlog), oldest_age_ms = coalesce(excluded.oldest_age_ms, oldest_age_ms)`);
    const byType = this.db.prepare(`INSERT INTO minute_types (current_id, minute, event_type, delivered) VALUES (?, ?, ?, ?)
      ON CONFLICT (current_id, minute, event_type) DO UPDATE SET delivered = delivered + excluded.delivered`);
    this.db.transaction(() => {
      for (const p of points) {
        st.run(p.currentId, p.minute, p.delivered, p.failed, p.p50Ms, p.p99Ms, p.backlog, p.oldestAgeMs);
        for (const [type, n] of Object.entries(p.byType ?? {})) byType.run(p.currentId, p.minute, type, n);
      }
    })();
  }

  async listMinutes(currentId: string, sinceMinute: number): Promise<MinutePoint[]> {
    return (this.db.prepare("SELECT * FROM current_minutes WHERE current_id = ? AND minute >= ? ORDER BY minute").all(currentId, sinceMinute) as MinuteRow[]).map(toMinute);
  }

  async deliveredSince(currentId: string, sinceMinute: number): Promise<number> {
    const row = this.db.prepare("SELECT coalesce(sum(delivered), 0) AS n FROM current_minutes WHERE current_id = ? AND minute >= ?").get(currentId, sinceMinute) as { n: number };
    return row.n;
  }

  async deleteMinutesBefore(minute: number): Promise<number> {
    this.db.prepare("DELETE FROM minute_types WHERE minute < ?").run(minute);
    return this.db.prepare("DELETE FROM current_minutes WHERE minute < ?").run(minute).changes;
  }

  async deliveredByType(currentId: string, sinceMinute: number): Promise<Array<{ type: string; delivered: number }>> {
    return this.db.prepare(`SELECT event_type AS type, sum(delivered) AS delivered FROM minute_types WHERE current_id = ? AND minute >= ?
      GROUP BY event_type ORDER BY delivered DESC, event_type`).all(currentId, sinceMinute) as Array<{ type: string; delivered: number }>;
  }

  async addHistory(e: Omit<HistoryEntry, "id">): Promise<void> {
    this.db.prepare("INSERT INTO current_history (current_id, at, kind, status, message) VALUES (?, ?, ?, ?, ?)")
      .run(e.currentId, e.at, e.kind, e.status, e.message);
  }

  async listHistory(currentId: string, limit: number): Promise<HistoryEntry[]> {
    return (this.db.prepare("SELECT * FROM current_history WHERE current_id = ? ORDER BY id DESC LIMIT ?").all(currentId, limit) as HistoryRow[]).map(toHistory);
  }

  async pruneHistory(before: number, maxRows: number): Promise<number> {
    return this.db.prepare("DELETE FROM current_history WHERE id IN (SELECT id FROM current_history WHERE at < ? ORDER BY at LIMIT ?)").run(before, maxRows).changes;
  }

  async pruneAudit(before: number, maxRows: number): Promise<number> {
    return this.db.prepare("DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY at LIMIT ?)").run(before, maxRows).changes;
  }

  async getProgress(currentId: string): Promise<CurrentProgress | undefined> {
    const r = this.db.prepare("SELECT * FROM current_progress WHERE current_id = ?").get(currentId) as ProgressRow | undefined;
    return r && toProgress(r);
  }

  async updateProgress(updates: readonly ProgressUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    this.db.transaction(() => {
      for (const u of updates) {
        this.#progressUpdate.run(progressParams(u));
      }
    })();
  }
}
