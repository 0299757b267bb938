import type { CurrentProgress, CurrentRecord, CurrentStatus, ProgressUpdate } from "../currents/model.js";
import type { AttemptRow, AuditEntry, DeadLetter, HistoryEntry, IngestKeyRecord, MinutePoint, SourceRecord } from "./port.js";

/** Rows as both adapters store them, and their mapping to the port's records. */
export interface CurrentRow {
  id: string; workspace_id: string; name: string; partner: string; contact_email: string | null;
  settings: string; secrets_enc: string | null; secret_hints: string; events: string;
  transformations: string; batching: string; status: string; status_reason: string | null;
  status_since: number; created_at: number; updated_at: number; launched_at: number | null; version: number;
}

export function toRecord(r: CurrentRow): CurrentRecord {
  return {
    id: r.id,
    workspace: r.workspace_id,
    name: r.name,
    partner: r.partner,
    contactEmail: r.contact_email,
    settings: JSON.parse(r.settings),
    secretsEnc: r.secrets_enc,
    secretHints: JSON.parse(r.secret_hints),
    events: JSON.parse(r.events),
    transformations: JSON.parse(r.transformations),
    batching: JSON.parse(r.batching),
    status: r.status as CurrentStatus,
    statusReason: r.status_reason,
    statusSince: r.status_since,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    launchedAt: r.launched_at,
    version: Number(r.version),
  };
}

export function toRow(c: CurrentRecord): CurrentRow {
  return {
    id: c.id,
    workspace_id: c.workspace,
    name: c.name,
    partner: c.partner,
    contact_email: c.contactEmail,
    settings: JSON.stringify(c.settings),
    secrets_enc: c.secretsEnc,
    secret_hints: JSON.stringify(c.secretHints),
    events: JSON.stringify(c.events),
    transformations: JSON.stringify(c.transformations),
    batching: JSON.stringify(c.batching),
    status: c.status,
    status_reason: c.statusReason,
    status_since: c.statusSince,
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    launched_at: c.launchedAt,
    version: c.version,
  };
}

export interface KeyRow { id: string; workspace_id: string; key_hash: string; hint: string; created_at: number; revoked_at: number | null; strict: number | boolean }
export const toKey = (r: KeyRow): IngestKeyRecord => ({
  id: r.id, workspace: r.workspace_id, keyHash: r.key_hash, hint: r.hint, createdAt: r.created_at, revokedAt: r.revoked_at, strict: Boolean(r.strict),
});

export interface ProgressRow {
  acked_seq: number; delivered: number; failed_attempts: number; dead_lettered: number; expired: number; values_cut: number;
  last_delivered_at: number | null; last_error: string | null; last_error_at: number | null;
}


export interface AuditRow { id: number; at: number; actor: string; action: string; target: string | null; status: number; ip: string | null; request_id: string | null }
export const toAudit = (r: AuditRow): AuditEntry => ({ id: r.id, at: r.at, actor: r.actor, action: r.action, target: r.target, status: r.status, ip: r.ip, requestId: r.request_id });

export interface MinuteRow {
  current_id: string; minute: number; delivered: number; failed: number; p50_ms: number | null; p99_ms: number | null; backlog: number | null; oldest_age_ms: number | null;
}
export const toMinute = (r: MinuteRow): MinutePoint => ({
  currentId: r.current_id, minute: r.minute, delivered: r.delivered, failed: r.failed, p50Ms: r.p50_ms, p99Ms: r.p99_ms, backlog: r.backlog, oldestAgeMs: r.oldest_age_ms,
});

export interface HistoryRow { id: number; current_id: string; at: number; kind: "status" | "notice"; status: string | null; message: string }
export const toHistory = (r: HistoryRow): HistoryEntry => ({ id: r.id, currentId: r.current_id, at: r.at, kind: r.kind, status: r.status, message: r.message });

export const toProgress = (r: ProgressRow): CurrentProgress => ({
  ackedSeq: r.acked_seq, delivered: r.delivered, failedAttempts: r.failed_attempts, deadLettered: r.dead_lettered,
  expired: r.expired, valuesCut: Number(r.values_cut ?? 0), lastDeliveredAt: r.last_delivered_at, lastError: r.last_error, lastErrorAt: r.last_error_at,
});

/** The named parameters of a progress update (absent fields leave the stored value alone). */
export const progressParams = (u: ProgressUpdate) => ({
  currentId: u.currentId,
  ackedSeq: u.ackedSeq ?? null,
  deliveredDelta: u.deliveredDelta ?? 0,
  failedAttemptsDelta: u.failedAttemptsDelta ?? 0,
  deadLetteredDelta: u.deadLetteredDelta ?? 0,
  expiredDelta: u.expiredDelta ?? 0,
  valuesCutDelta: u.valuesCutDelta ?? 0,
  lastDeliveredAt: u.lastDeliveredAt ?? null,
  setError: u.lastError !== undefined ? 1 : 0,
  lastError: u.lastError ?? null,
  lastErrorAt: u.lastErrorAt ?? null,
});

export interface DeadLetterRow { id: number; current_id: string; seq: number; body: string; status: number | null; reason: string; excerpt: string; created_at: number }
export const toLetter = (r: DeadLetterRow): DeadLetter => ({
  id: r.id, currentId: r.current_id, seq: r.seq, body: r.body, status: r.status, reason: r.reason, excerpt: r.excerpt, createdAt: r.created_at,
});

/** Unmapped provider events kept per source (the newest). */
export const UNMAPPED_KEPT = 100;

export interface SourceRow {
  id: string; workspace_id: string; kind: string; name: string; settings: string | Record<string, unknown>; secrets_enc: string | null;
  secret_hints: string | Record<string, string>; created_at: number; updated_at: number;
}
const json = <T>(v: string | T): T => (typeof v === "string" ? (JSON.parse(v) as T) : v);
export const toSource = (r: SourceRow): SourceRecord => ({
  id: r.id, workspace: r.workspace_id, kind: r.kind, name: r.name, settings: json(r.settings), secretsEnc: r.secrets_enc,
  secretHints: json(r.secret_hints), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
});

export interface AttemptDbRow {
  id: number | string; current_id: string; at: number | string; part: number | null; first_seq: number | string; last_seq: number | string;
  events: number; attempt: number; status: number | null; latency_ms: number; outcome: string; error: string | null; excerpt: string; idempotency_key: string | null;
}
export const toAttempt = (r: AttemptDbRow): AttemptRow => ({
  id: Number(r.id), currentId: r.current_id, at: Number(r.at), partition: r.part, firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq),
  events: r.events, attempt: r.attempt, status: r.status, latencyMs: r.latency_ms, outcome: r.outcome, error: r.error, excerpt: r.excerpt, idempotencyKey: r.idempotency_key,
});
/** The columns of `attempts` in insert order, and a row's values in that order. */
export const ATTEMPT_COLUMNS = "current_id, at, part, first_seq, last_seq, events, attempt, status, latency_ms, outcome, error, excerpt, idempotency_key";
export const attemptValues = (a: Omit<AttemptRow, "id">): unknown[] => [
  a.currentId, a.at, a.partition, a.firstSeq, a.lastSeq, a.events, a.attempt, a.status, Math.round(a.latencyMs), a.outcome, a.error, a.excerpt, a.idempotencyKey,
];
/** How `AttemptQuery.outcome` reads: delivered, failed (anything not delivered), partial, or one outcome. */
export function outcomeFilter(outcome: string | undefined, param: string): { sql: string; value?: string } {
  if (!outcome) return { sql: "" };
  if (outcome === "failed") return { sql: " AND outcome <> 'delivered'" };
  if (outcome === "partial") return { sql: " AND outcome LIKE 'partial%'" };
  return { sql: ` AND outcome = ${param}`, value: outcome };
}
/** How many attempts `covering` looks at (the batches that start at or before the event); bounded work. */
export const COVERING_SCAN = 400;
