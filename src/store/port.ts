import type { CurrentProgress, CurrentRecord, ProgressUpdate } from "../currents/model.js";

/**
 * The storage port. The delivery core, ingest and the admin API talk to these interfaces
 * only; adapters (sqlite/, later postgres/) own their connections and their SQL.
 *
 * Vocabulary: an event is stored once per workspace with a `seq`, increasing in the order
 * events were acknowledged. A Current's position is the `ackedSeq` of its progress.
 */

export interface NewEvent {
  readonly workspace: string;
  readonly id: string;
  readonly type: string;
  /** The event as JSON text, stored and delivered as is. */
  readonly body: string;
  /** Its user's key (see catalog/user-key.ts) when the caller already parsed it; else read from the body where needed. */
  readonly userKey?: string;
}

export interface StoredEvent {
  readonly seq: number;
  readonly type: string;
  readonly receivedAt: number;
  readonly body: string;
}

/** What became of one appended event. */
export type AppendOutcome = "stored" | "duplicate";

export interface EventSelection {
  readonly workspace: string;
  readonly types: readonly string[];
  /** JetStream mode: only the events of this partition (of `Store.partitions`). */
  readonly partition?: number;
}

export interface ReadEventsQuery extends EventSelection {
  readonly afterSeq: number;
  /** At most this many matching events. */
  readonly limit: number;
  /** Look at no more than this many stored events (matching or not) in one call. */
  readonly scanLimit: number;
}

export interface ReadEventsResult {
  readonly events: StoredEvent[];
  /** Every stored event with seq <= scannedTo was looked at (resume after it). */
  readonly scannedTo: number;
}

export interface EventLog {
  /**
   * Appends events durably (fsync'd before the promise resolves). An event whose
   * (workspace, id) was stored within `dedupeWindowMs` is not stored again: "duplicate".
   */
  append(events: readonly NewEvent[], now: number): Promise<AppendOutcome[]>;
  /** The seq of the newest stored event (0 when none). */
  headSeq(): Promise<number>;
  /** Number of stored events (approximate is fine; used for backpressure). */
  size(): Promise<number>;
  read(query: ReadEventsQuery): Promise<ReadEventsResult>;
  /** Events of a selection after `afterSeq` (up to `toSeq`): how many, and the oldest's time. */
  count(selection: EventSelection, afterSeq: number, toSeq?: number): Promise<{ count: number; oldestReceivedAt: number | null }>;
  /** The highest seq of events received before `receivedBefore` (0 when none). */
  seqBefore(receivedBefore: number): Promise<number>;
  /** Deletes events with seq <= `uptoSeq`, at most `maxRows` at a time; returns how many went. */
  deleteUpTo(uptoSeq: number, maxRows: number): Promise<number>;
  /** Forgets event ids seen before `seenBefore`, at most `maxRows` at a time. */
  pruneDedupe(seenBefore: number, maxRows: number): Promise<number>;
  /** When an event id was stored, while it is in the dedupe window (undefined after, or never). */
  seenAt(workspace: string, id: string): Promise<number | undefined>;
  /**
   * About how many events are stored after `afterSeq`, where seqs are not dense (JetStream
   * mode); absent when `headSeq() - afterSeq` already says it.
   */
  eventsAfter?(afterSeq: number): Promise<number>;
}

export interface IngestKeyRecord {
  readonly id: string;
  readonly workspace: string;
  readonly keyHash: string;
  /** Last 4 characters, for display. */
  readonly hint: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
  /** Events sent with this key are refused when a catalog-required field is missing. */
  readonly strict: boolean;
}

/** An event a partner definitively refused, kept for the user to see and redrive. */
export interface DeadLetter {
  readonly id: number;
  readonly currentId: string;
  readonly seq: number;
  readonly body: string;
  /** The partner's HTTP status, or null when no answer came. */
  readonly status: number | null;
  readonly reason: string;
  /** The start of the partner's answer. */
  readonly excerpt: string;
  readonly createdAt: number;
}

export interface DeadLetterStore {
  /**
   * Adds dead letters; with `unlessHeld`, a letter whose (Current, seq) is already held is not
   * added again (a batch re-sent after a crash and refused again). Returns how many were added.
   */
  add(letters: readonly Omit<DeadLetter, "id">[], options?: { unlessHeld?: boolean }): Promise<number>;
  list(currentId: string, limit: number, afterId?: number): Promise<DeadLetter[]>;
  count(currentId: string): Promise<number>;
  /** Held dead letters by reason, most frequent first, counted over the newest `sample` of them (bounded work). */
  reasons(currentId: string, sample: number): Promise<Array<{ reason: string; count: number }>>;
  /** The given dead letters of a Current (ids of other Currents are ignored). */
  get(currentId: string, ids: readonly number[]): Promise<DeadLetter[]>;
  /** Removes dead letters (after a redrive settled them, or on discard); returns how many went. */
  remove(currentId: string, ids: readonly number[]): Promise<number>;
  /** Ids of a Current's dead letters after `afterId`, in order, without their bodies (paging). */
  ids(currentId: string, limit: number, afterId?: number): Promise<number[]>;
  /** The dead letters of a Current made of the event at `seq` (held now). */
  bySeq(currentId: string, seq: number): Promise<DeadLetter[]>;
  /** Deletes dead letters created before `before`, at most `maxRows`; how many went per Current. */
  pruneBefore(before: number, maxRows: number): Promise<Array<{ currentId: string; count: number }>>;
}

/** A line of a Current's history: a status change or a notice sent to its contact. */
export interface HistoryEntry {
  readonly id: number;
  readonly currentId: string;
  readonly at: number;
  readonly kind: "status" | "notice";
  readonly status: string | null;
  readonly message: string;
}

/** One admin action: who did what to which object, when, and how it ended. */
export interface AuditEntry {
  readonly id: number;
  readonly at: number;
  readonly actor: string;
  /** e.g. "PATCH /api/v1/currents/:id" */
  readonly action: string;
  readonly target: string | null;
  readonly status: number;
  readonly ip: string | null;
  readonly requestId: string | null;
}

/** One minute of a Current's delivery, for the dashboard's charts. */
export interface MinutePoint {
  readonly currentId: string;
  /** Minutes since the epoch. */
  readonly minute: number;
  readonly delivered: number;
  readonly failed: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly backlog: number | null;
  readonly oldestAgeMs: number | null;
  /** Events delivered in the minute by type (added up, like `delivered`). */
  readonly byType?: Readonly<Record<string, number>>;
}

export interface ConfigRepository {
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;

  ensureWorkspace(id: string, now: number): Promise<void>;
  listWorkspaces(): Promise<string[]>;
  /** Workspaces in strict validation mode. */
  strictWorkspaces(): Promise<string[]>;
  /** False when the workspace does not exist. */
  setWorkspaceStrict(id: string, strict: boolean): Promise<boolean>;

  insertIngestKey(key: IngestKeyRecord): Promise<void>;
  findIngestKey(keyHash: string): Promise<IngestKeyRecord | undefined>;
  listIngestKeys(workspace?: string): Promise<IngestKeyRecord[]>;
  revokeIngestKey(id: string, now: number): Promise<boolean>;

  insertCurrent(current: CurrentRecord, progress: CurrentProgress): Promise<void>;
  /**
   * Compare-and-set: writes the Current (its `version` + 1) only if its stored version is
   * still `current.version`; false when someone changed it in between (or it is gone).
   * `setAckedSeq` moves its position in the same transaction (launch), only when written.
   */
  updateCurrent(current: CurrentRecord, setAckedSeq?: number): Promise<boolean>;
  /** Replaces the sealed secrets of several Currents and sources in one transaction (master key rotation). */
  replaceSecrets(sealed: ReadonlyArray<{ id: string; secretsEnc: string; source?: boolean }>): Promise<void>;
  deleteCurrent(id: string): Promise<boolean>;
  getCurrent(id: string): Promise<CurrentRecord | undefined>;
  listCurrents(workspace?: string): Promise<CurrentRecord[]>;

  addAudit(entry: Omit<AuditEntry, "id">): Promise<void>;
  listAudit(limit: number, beforeId?: number): Promise<AuditEntry[]>;

  /** Adds minute points: delivered and failed are added to what the minute holds; latencies and backlog replace it when given. */
  upsertMinutes(points: readonly MinutePoint[]): Promise<void>;
  listMinutes(currentId: string, sinceMinute: number): Promise<MinutePoint[]>;
  /** Events a Current delivered since a minute (the list's "delivered (24 h)"). */
  deliveredSince(currentId: string, sinceMinute: number): Promise<number>;
  deleteMinutesBefore(minute: number): Promise<number>;
  /** Events a Current delivered since a minute, by type, most first. */
  deliveredByType(currentId: string, sinceMinute: number): Promise<Array<{ type: string; delivered: number }>>;

  addHistory(entry: Omit<HistoryEntry, "id">): Promise<void>;
  listHistory(currentId: string, limit: number): Promise<HistoryEntry[]>;
  /** Deletes history rows older than `before`, at most `maxRows`; returns how many went. */
  pruneHistory(before: number, maxRows: number): Promise<number>;
  /** Deletes audit rows older than `before`, at most `maxRows`; returns how many went. */
  pruneAudit(before: number, maxRows: number): Promise<number>;

  getProgress(currentId: string): Promise<CurrentProgress | undefined>;
  /** JetStream mode: each partition's acked position of a Current (partitions not yet written are absent). */
  partitionPositions?(currentId: string): Promise<Map<number, number>>;
  /** Applies several progress updates in one transaction. */
  updateProgress(updates: readonly ProgressUpdate[]): Promise<void>;
}

/** A lease held by one process: a Current it delivers, a job it runs, or its membership. */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  readonly expiresAt: number;
}

/**
 * Leases shared by every process on the store. A lease is held until it expires; the
 * holder renews it by acquiring it again. Time is the store's clock where it has one
 * (PostgreSQL), so that processes on several machines agree on expiry.
 */
export interface LeaseStore {
  /** Takes or renews `name` for `owner` for `ttlMs`; false when another owner holds it. */
  acquire(name: string, owner: string, ttlMs: number): Promise<boolean>;
  release(name: string, owner: string): Promise<void>;
  /** Unexpired leases whose name starts with `prefix`. */
  live(prefix: string): Promise<Lease[]>;
}

/** Thrown by an adapter when its database cannot be reached (ingest answers 503). */
export class StoreUnavailableError extends Error {
  override readonly name: string = "StoreUnavailableError";
}

/** Thrown by an adapter when its disk is full (ingest answers 507). */
export class StoreFullError extends StoreUnavailableError {
  override readonly name = "StoreFullError";
}

/**
 * The one place that says what a store failure means for a client: "full" (507), "unavailable"
 * (503), or undefined (a fault of ours: 500). Adapters throw the two errors above; a raw
 * SQLite error that escaped them is read by its code.
 */
export function storeFailureKind(error: unknown): "full" | "unavailable" | undefined {
  if (error instanceof StoreFullError) return "full";
  if (error instanceof StoreUnavailableError) return "unavailable";
  const code = String((error as { code?: string } | null)?.code ?? "");
  if (code === "SQLITE_FULL" || code.startsWith("SQLITE_FULL_")) return "full";
  if (/^SQLITE_(BUSY|IOERR|CANTOPEN|READONLY)/.test(code)) return "unavailable";
  return undefined;
}

/** A source: a provider's webhooks turned into catalog events (SPEC section 12). */
export interface SourceRecord {
  readonly id: string;
  readonly workspace: string;
  readonly kind: string;
  readonly name: string;
  readonly settings: Readonly<Record<string, unknown>>;
  /** Secret settings (signing keys, tokens, passwords), sealed; never in clear. */
  readonly secretsEnc: string | null;
  readonly secretHints: Readonly<Record<string, string>>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface SourceStats {
  readonly requests: number;
  readonly signatureFailures: number;
  readonly unmapped: number;
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
  /** Events produced, by catalog type. */
  readonly byType: Readonly<Record<string, number>>;
}

/** What one webhook request did to a source's stats. */
export interface SourceRequestOutcome {
  readonly signatureFailure?: boolean;
  readonly produced?: Readonly<Record<string, number>>;
  /** Provider events with no mapping: their provider type and an excerpt (the last 100 are kept). */
  readonly unmapped?: ReadonlyArray<{ readonly providerType: string; readonly excerpt: string }>;
  readonly error?: string;
}

export interface SourceStore {
  insert(source: SourceRecord): Promise<void>;
  update(source: SourceRecord): Promise<boolean>;
  get(id: string): Promise<SourceRecord | undefined>;
  list(workspace?: string): Promise<SourceRecord[]>;
  delete(id: string): Promise<boolean>;
  record(id: string, outcome: SourceRequestOutcome, now: number): Promise<void>;
  stats(id: string): Promise<SourceStats>;
  /** The last unmapped provider events, newest first. */
  unmapped(id: string, limit: number): Promise<Array<{ at: number; providerType: string; excerpt: string }>>;
}

/** A cohort imported from a partner (Heap's cohort sync, SPEC section 15). */
export interface CohortRecord {
  /** Currents' own id of the cohort (the partner's id is `cohortId`). */
  readonly id: string;
  readonly workspace: string;
  readonly partner: string;
  readonly cohortId: string;
  readonly name: string;
  /** When the partner says it created the cohort (ms). */
  readonly createdAt: number;
  /** When Currents first heard of it, and last changed it (ms). */
  readonly importedAt: number;
  readonly updatedAt: number;
  readonly size: number;
  /** Membership changes applied so far (each request that changed something adds one). */
  readonly version: number;
}

export type MemberKind = "user" | "device" | "alias";

/** A member: an external user id, a device id, or an alias (`key` = JSON [alias_label, alias_name]). */
export interface CohortMember {
  readonly kind: MemberKind;
  readonly key: string;
}

/** One request's effect on a cohort. */
export interface CohortChange {
  readonly at: number;
  readonly requestId: string;
  readonly joined: number;
  readonly left: number;
  readonly sizeAfter: number;
  /** Set when the request named or renamed the cohort. */
  readonly name: string | null;
}

/** A data import key: what Heap sends as `client_secret`; stored hashed. */
export interface DataImportKeyRecord {
  readonly id: string;
  readonly workspace: string;
  readonly keyHash: string;
  readonly hint: string;
  readonly createdAt: number;
}

export interface CohortStore {
  /** Creates the cohort, or renames it; records the change. */
  upsert(c: Omit<CohortRecord, "id" | "importedAt" | "updatedAt" | "size" | "version">, newId: string, now: number, requestId: string): Promise<CohortRecord>;
  get(id: string): Promise<CohortRecord | undefined>;
  find(workspace: string, partner: string, cohortId: string): Promise<CohortRecord | undefined>;
  /** By Currents id, after `afterId`; `search` matches the name (case-insensitive) or the partner's id. */
  list(q: { workspace?: string; search?: string; limit: number; afterId?: string }): Promise<CohortRecord[]>;
  /**
   * Adds and removes members in one transaction; members already in (or already out) change
   * nothing. Returns who actually joined and left, and the size after.
   */
  apply(id: string, add: readonly CohortMember[], remove: readonly CohortMember[], now: number, requestId: string): Promise<{ joined: CohortMember[]; left: CohortMember[]; size: number }>;
  /** Which of these members are in the cohort now (as `${kind}\u0000${key}`). */
  present(id: string, members: readonly CohortMember[]): Promise<Set<string>>;
  /** Members in (kind, key) order after `after`, with when they joined. */
  members(id: string, limit: number, after?: CohortMember): Promise<Array<CohortMember & { since: number }>>;
  /** The cohorts of a workspace a member is in, with when it joined. */
  cohortsOf(workspace: string, member: CohortMember): Promise<Array<CohortRecord & { since: number }>>;
  /** The newest changes first. */
  history(id: string, limit: number): Promise<CohortChange[]>;

  insertImportKey(key: DataImportKeyRecord): Promise<void>;
  findImportKey(keyHash: string): Promise<DataImportKeyRecord | undefined>;
  listImportKeys(workspace?: string): Promise<DataImportKeyRecord[]>;
  deleteImportKey(id: string): Promise<boolean>;
}

/** One delivery attempt of a batch, kept in the store for `attemptRetentionMs` (7 days by default). */
export interface AttemptRow {
  readonly id: number;
  readonly currentId: string;
  readonly at: number;
  /** JetStream mode: the partition the batch came from (ranges of different partitions overlap). */
  readonly partition: number | null;
  /** The batch's first and last event (seqs); the batch holds the Current's selected events between them. */
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly events: number;
  /** 1 for the batch's first try, 2 for its first retry... */
  readonly attempt: number;
  readonly status: number | null;
  readonly latencyMs: number;
  /** delivered, retry, split, halve, failing, or "partial: ..." */
  readonly outcome: string;
  readonly error: string | null;
  /** The start of the partner's answer (at most 300 characters). */
  readonly excerpt: string;
  readonly idempotencyKey: string | null;
}

export interface AttemptQuery {
  readonly currentId: string;
  /** "delivered", "failed" (anything else), or an exact outcome. */
  readonly outcome?: string;
  readonly since?: number;
  readonly until?: number;
  /** Newest first: attempts with an id below this one (the next page). */
  readonly beforeId?: number;
  readonly limit: number;
}

export interface AttemptStore {
  add(rows: readonly Omit<AttemptRow, "id">[]): Promise<void>;
  /** Newest first. */
  list(q: AttemptQuery): Promise<AttemptRow[]>;
  /** The attempts of a Current whose batch range holds `seq` (of `partition` when given), oldest first. */
  covering(currentId: string, seq: number, partition: number | null): Promise<AttemptRow[]>;
  /** Deletes attempts made before `before`, at most `maxRows`; returns how many went. */
  pruneBefore(before: number, maxRows: number): Promise<number>;
  /** Attempts of a Current since a time: how many, and how many did not deliver (the error rate). */
  summary(currentId: string, since: number): Promise<{ total: number; failed: number }>;
}

export interface Store {
  readonly kind: "sqlite" | "postgres" | "jetstream";
  /** JetStream mode: the event log's partitions; each (Current, partition) is delivered on its own. */
  readonly partitions?: number;
  readonly sources: SourceStore;
  readonly cohorts: CohortStore;
  readonly events: EventLog;
  readonly config: ConfigRepository;
  readonly deadLetters: DeadLetterStore;
  readonly attempts: AttemptStore;
  readonly leases: LeaseStore;
  /**
   * Calls `listener` when any process appended events for a workspace (server mode);
   * absent when only this process writes. Returns an unsubscribe function.
   */
  onAppended?(listener: (workspace: string) => void): () => void;
  /** True when the store answers and can take writes (for /readyz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
