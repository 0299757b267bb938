import type Database from "better-sqlite3";

/**
 * Versioned schema migrations of the embedded store, applied in order inside one
 * transaction each. A store written by a newer Currents (a higher version than the
 * last one here) is refused at start-up rather than misread.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    sql: `
      CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE workspaces (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE ingest_keys (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id),
        key_hash TEXT NOT NULL UNIQUE,
        hint TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      -- AUTOINCREMENT: seqs are never reused, even after every row was deleted,
      -- so a Current's cursor never stalls behind recycled rowids.
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        workspace_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        body TEXT NOT NULL
      );
      -- Dedupe window: (workspace, event id) -> when it was last stored.
      CREATE TABLE event_ids (key TEXT PRIMARY KEY, seen_at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX event_ids_seen_at ON event_ids (seen_at);
      CREATE TABLE currents (
        id TEXT PRIMARY KEY,
        workspace_id TEXT NOT NULL REFERENCES workspaces(id),
        name TEXT NOT NULL,
        partner TEXT NOT NULL,
        contact_email TEXT,
        settings TEXT NOT NULL,
        secrets_enc TEXT,
        secret_hints TEXT NOT NULL,
        events TEXT NOT NULL,
        transformations TEXT NOT NULL,
        batching TEXT NOT NULL,
        status TEXT NOT NULL,
        status_reason TEXT,
        status_since INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        launched_at INTEGER
      );
      CREATE TABLE current_progress (
        current_id TEXT PRIMARY KEY REFERENCES currents(id) ON DELETE CASCADE,
        acked_seq INTEGER NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0,
        failed_attempts INTEGER NOT NULL DEFAULT 0,
        dead_lettered INTEGER NOT NULL DEFAULT 0,
        expired INTEGER NOT NULL DEFAULT 0,
        last_delivered_at INTEGER,
        last_error TEXT,
        last_error_at INTEGER
      );
      CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        current_id TEXT NOT NULL REFERENCES currents(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        body TEXT NOT NULL,
        status INTEGER,
        reason TEXT NOT NULL,
        excerpt TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX dead_letters_current ON dead_letters (current_id, id);
    `,
  },
  {
    version: 2,
    name: "current history (status changes and notices)",
    sql: `
      CREATE TABLE current_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        current_id TEXT NOT NULL REFERENCES currents(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        kind TEXT NOT NULL,
        status TEXT,
        message TEXT NOT NULL
      );
      CREATE INDEX current_history_current ON current_history (current_id, id);
    `,
  },
  {
    version: 3,
    name: "audit log of admin actions",
    sql: `
      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT,
        status INTEGER NOT NULL,
        ip TEXT,
        request_id TEXT
      );
    `,
  },
  {
    version: 4,
    name: "per-minute delivery series for charts",
    sql: `
      CREATE TABLE current_minutes (
        current_id TEXT NOT NULL,
        minute INTEGER NOT NULL,
        delivered INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        p50_ms REAL,
        p99_ms REAL,
        backlog INTEGER,
        oldest_age_ms INTEGER,
        PRIMARY KEY (current_id, minute)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    name: "leases (which process delivers which Current, runs which job)",
    sql: `
      CREATE TABLE leases (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID;
    `,
  },
  {
    version: 6,
    name: "strict validation per workspace and ingest key; Current versions (compare-and-set); retention indexes",
    sql: `
      ALTER TABLE workspaces ADD COLUMN strict INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE ingest_keys ADD COLUMN strict INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE currents ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
      CREATE INDEX dead_letters_created ON dead_letters (created_at);
      CREATE INDEX current_history_at ON current_history (at);
      CREATE INDEX audit_log_at ON audit_log (at);
    `,
  },
  {
    version: 7,
    name: "event counts per workspace, type and bucket of 16,384 seqs (pending counts without scans)",
    sql: `
      CREATE TABLE event_counts (
        workspace_id TEXT NOT NULL, event_type TEXT NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (workspace_id, event_type, bucket)
      ) WITHOUT ROWID;
      INSERT INTO event_counts SELECT workspace_id, event_type, seq >> 14, count(*) FROM events GROUP BY 1, 2, 3;
    `,
  },
  {
    version: 8,
    name: "dead letters held, counted without a scan (ever dead-lettered minus gone)",
    sql: `
      ALTER TABLE current_progress ADD COLUMN dead_letters_gone INTEGER NOT NULL DEFAULT 0;
      UPDATE current_progress SET dead_lettered = max(dead_lettered, (SELECT count(*) FROM dead_letters d WHERE d.current_id = current_progress.current_id));
      UPDATE current_progress SET dead_letters_gone = dead_lettered - (SELECT count(*) FROM dead_letters d WHERE d.current_id = current_progress.current_id);
    `,
  },
  {
    version: 9,
    name: "property keys and values a partner had to cut (Heap's server-side API)",
    sql: "ALTER TABLE current_progress ADD COLUMN values_cut INTEGER NOT NULL DEFAULT 0;",
  },
  {
    version: 10,
    name: "sources: provider webhooks turned into catalog events, with their stats and last unmapped events",
    sql: `
      CREATE TABLE sources (
        id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, settings TEXT NOT NULL,
        secrets_enc TEXT, secret_hints TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        requests INTEGER NOT NULL DEFAULT 0, signature_failures INTEGER NOT NULL DEFAULT 0, unmapped INTEGER NOT NULL DEFAULT 0,
        last_error TEXT, last_error_at INTEGER
      );
      CREATE TABLE source_type_counts (source_id TEXT NOT NULL, event_type TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (source_id, event_type)) WITHOUT ROWID;
      CREATE TABLE source_unmapped (id INTEGER PRIMARY KEY AUTOINCREMENT, source_id TEXT NOT NULL, at INTEGER NOT NULL, provider_type TEXT NOT NULL, excerpt TEXT NOT NULL);
      CREATE INDEX source_unmapped_by_source ON source_unmapped (source_id, id);
    `,
  },
  {
    version: 11,
    name: "cohorts imported from partners (Heap's cohort sync): cohorts, members, changes, data import keys",
    sql: `
      CREATE TABLE cohorts (
        id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, partner TEXT NOT NULL, cohort_id TEXT NOT NULL, name TEXT NOT NULL,
        created_at INTEGER NOT NULL, imported_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, size INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0,
        UNIQUE (workspace_id, partner, cohort_id)
      );
      CREATE TABLE cohort_members (cohort TEXT NOT NULL, kind TEXT NOT NULL, member TEXT NOT NULL, since INTEGER NOT NULL, PRIMARY KEY (cohort, kind, member)) WITHOUT ROWID;
      CREATE INDEX cohort_members_by_member ON cohort_members (kind, member);
      CREATE TABLE cohort_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT, cohort TEXT NOT NULL, at INTEGER NOT NULL, request_id TEXT NOT NULL,
        joined INTEGER NOT NULL, left_count INTEGER NOT NULL, size_after INTEGER NOT NULL, name TEXT
      );
      CREATE INDEX cohort_changes_by_cohort ON cohort_changes (cohort, id);
      CREATE TABLE data_import_keys (id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, hint TEXT NOT NULL, created_at INTEGER NOT NULL);
    `,
  },
  {
    version: 12,
    name: "events delivered per minute by type (the volume by event type)",
    sql: "CREATE TABLE minute_types (current_id TEXT NOT NULL, minute INTEGER NOT NULL, event_type TEXT NOT NULL, delivered INTEGER NOT NULL, PRIMARY KEY (current_id, minute, event_type)) WITHOUT ROWID;",
  },
  {
    version: 13,
    name: "every delivery attempt of the last days (the durable attempt log)",
    sql: `
      CREATE TABLE attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, current_id TEXT NOT NULL, at INTEGER NOT NULL, part INTEGER,
        first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, events INTEGER NOT NULL, attempt INTEGER NOT NULL,
        status INTEGER, latency_ms INTEGER NOT NULL, outcome TEXT NOT NULL, error TEXT, excerpt TEXT NOT NULL, idempotency_key TEXT
      );
      CREATE INDEX attempts_by_current ON attempts (current_id, id);
      CREATE INDEX attempts_by_range ON attempts (current_id, first_seq);
      CREATE INDEX attempts_at ON attempts (at);
      CREATE INDEX dead_letters_seq ON dead_letters (current_id, seq);
    `,
  },
];

export function migrate(db: Database.Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
  const row = db.prepare("SELECT max(version) AS v FROM schema_migrations").get() as { v: number | null };
  const current = row.v ?? 0;
  const latest = migrations[migrations.length - 1]?.version ?? 0;
  if (current > latest) {
    throw new Error(`the data dir holds schema version ${current}, newer than this Currents understands (${latest}); upgrade Currents`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, Date.now());
    })();
  }
}
