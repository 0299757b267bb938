import type pg from "pg";

/**
 * Versioned schema migrations of the PostgreSQL store. Each runs in its own transaction
 * under an advisory lock, so processes starting together migrate once. Migrations only
 * add (tables, columns with defaults, indexes): processes of the previous version keep
 * working while a newer one migrates. A schema newer than this code is refused.
 */
export const pgMigrations: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: "initial schema",
    sql: `
      CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);
      CREATE TABLE workspaces (id text PRIMARY KEY, created_at bigint NOT NULL);
      CREATE TABLE ingest_keys (
        id text PRIMARY KEY, workspace_id text NOT NULL REFERENCES workspaces(id), key_hash text NOT NULL UNIQUE,
        hint text NOT NULL, created_at bigint NOT NULL, revoked_at bigint
      );
      -- seq order is commit order: appends take an advisory lock before drawing seqs.
      CREATE TABLE events (
        seq bigserial PRIMARY KEY, workspace_id text NOT NULL, event_type text NOT NULL,
        received_at bigint NOT NULL, body text NOT NULL
      );
      CREATE TABLE event_ids (
        workspace_id text NOT NULL, event_id text NOT NULL, seen_at bigint NOT NULL,
        PRIMARY KEY (workspace_id, event_id)
      );
      CREATE INDEX event_ids_seen_at ON event_ids (seen_at);
      CREATE TABLE currents (
        id text PRIMARY KEY, workspace_id text NOT NULL REFERENCES workspaces(id), name text NOT NULL,
        partner text NOT NULL, contact_email text, settings text NOT NULL, secrets_enc text,
        secret_hints text NOT NULL, events text NOT NULL, transformations text NOT NULL, batching text NOT NULL,
        status text NOT NULL, status_reason text, status_since bigint NOT NULL, created_at bigint NOT NULL,
        updated_at bigint NOT NULL, launched_at bigint
      );
      CREATE TABLE current_progress (
        current_id text PRIMARY KEY REFERENCES currents(id) ON DELETE CASCADE,
        acked_seq bigint NOT NULL, delivered bigint NOT NULL DEFAULT 0, failed_attempts bigint NOT NULL DEFAULT 0,
        dead_lettered bigint NOT NULL DEFAULT 0, expired bigint NOT NULL DEFAULT 0,
        last_delivered_at bigint, last_error text, last_error_at bigint
      );
      CREATE TABLE dead_letters (
        id bigserial PRIMARY KEY, current_id text NOT NULL REFERENCES currents(id) ON DELETE CASCADE,
        seq bigint NOT NULL, body text NOT NULL, status integer, reason text NOT NULL, excerpt text NOT NULL,
        created_at bigint NOT NULL
      );
      CREATE INDEX dead_letters_current ON dead_letters (current_id, id);
      CREATE TABLE current_history (
        id bigserial PRIMARY KEY, current_id text NOT NULL REFERENCES currents(id) ON DELETE CASCADE,
        at bigint NOT NULL, kind text NOT NULL, status text, message text NOT NULL
      );
      CREATE INDEX current_history_current ON current_history (current_id, id);
      CREATE TABLE audit_log (
        id bigserial PRIMARY KEY, at bigint NOT NULL, actor text NOT NULL, action text NOT NULL, target text,
        status integer NOT NULL, ip text, request_id text
      );
      CREATE TABLE current_minutes (
        current_id text NOT NULL, minute bigint NOT NULL, delivered bigint NOT NULL, failed bigint NOT NULL,
        p50_ms double precision, p99_ms double precision, backlog bigint, oldest_age_ms bigint,
        PRIMARY KEY (current_id, minute)
      );
    `,
  },
  {
    version: 2,
    name: "leases (which process delivers which Current, runs which job)",
    sql: `CREATE TABLE leases (name text PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL);`,
  },
  {
    version: 3,
    name: "strict validation per workspace and ingest key; Current versions (compare-and-set); retention indexes",
    sql: `
      ALTER TABLE workspaces ADD COLUMN strict boolean NOT NULL DEFAULT false;
      ALTER TABLE ingest_keys ADD COLUMN strict boolean NOT NULL DEFAULT false;
      ALTER TABLE currents ADD COLUMN version bigint NOT NULL DEFAULT 1;
      CREATE INDEX dead_letters_created ON dead_letters (created_at);
      CREATE INDEX current_history_at ON current_history (at);
      CREATE INDEX audit_log_at ON audit_log (at);
    `,
  },
  {
    version: 4,
    name: "event counts per workspace, type and bucket of 16,384 seqs (pending counts without scans)",
    sql: `
      CREATE TABLE event_counts (
        workspace_id text NOT NULL, event_type text NOT NULL, bucket bigint NOT NULL, n bigint NOT NULL,
        PRIMARY KEY (workspace_id, event_type, bucket)
      );
      INSERT INTO event_counts SELECT workspace_id, event_type, seq >> 14, count(*) FROM events GROUP BY 1, 2, 3;
    `,
  },
  {
    version: 5,
    name: "dead letters held, counted without a scan (ever dead-lettered minus gone)",
    sql: `
      ALTER TABLE current_progress ADD COLUMN dead_letters_gone bigint NOT NULL DEFAULT 0;
      UPDATE current_progress p SET dead_lettered = greatest(p.dead_lettered, (SELECT count(*) FROM dead_letters d WHERE d.current_id = p.current_id));
      UPDATE current_progress p SET dead_letters_gone = p.dead_lettered - (SELECT count(*) FROM dead_letters d WHERE d.current_id = p.current_id);
    `,
  },
  {
    version: 6,
    name: "property keys and values a partner had to cut (Heap's server-side API)",
    sql: "ALTER TABLE current_progress ADD COLUMN values_cut bigint NOT NULL DEFAULT 0;",
  },
  {
    version: 7,
    name: "sources: provider webhooks turned into catalog events, with their stats and last unmapped events",
    sql: `
      CREATE TABLE sources (
        id text PRIMARY KEY, workspace_id text NOT NULL, kind text NOT NULL, name text NOT NULL, settings jsonb NOT NULL,
        secrets_enc text, secret_hints jsonb NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL,
        requests bigint NOT NULL DEFAULT 0, signature_failures bigint NOT NULL DEFAULT 0, unmapped bigint NOT NULL DEFAULT 0,
        last_error text, last_error_at bigint
      );
      CREATE TABLE source_type_counts (source_id text NOT NULL, event_type text NOT NULL, n bigint NOT NULL, PRIMARY KEY (source_id, event_type));
      CREATE TABLE source_unmapped (id bigserial PRIMARY KEY, source_id text NOT NULL, at bigint NOT NULL, provider_type text NOT NULL, excerpt text NOT NULL);
      CREATE INDEX source_unmapped_by_source ON source_unmapped (source_id, id);
    `,
  },
  {
    version: 8,
    name: "JetStream mode: each (Current, partition)'s acked position, and the stream's events counted per partition and bucket",
    sql: `
      CREATE TABLE partition_positions (
        current_id text NOT NULL REFERENCES currents (id) ON DELETE CASCADE, partition integer NOT NULL, acked_seq bigint NOT NULL,
        PRIMARY KEY (current_id, partition)
      );
      CREATE TABLE stream_counts (
        workspace_id text NOT NULL, event_type text NOT NULL, bucket bigint NOT NULL, partition integer NOT NULL, n bigint NOT NULL,
        PRIMARY KEY (workspace_id, event_type, bucket, partition)
      );
    `,
  },
  {
    version: 9,
    name: "cohorts imported from partners (Heap's cohort sync): cohorts, members, changes, data import keys",
    sql: `
      CREATE TABLE cohorts (
        id text PRIMARY KEY, workspace_id text NOT NULL, partner text NOT NULL, cohort_id text NOT NULL, name text NOT NULL,
        created_at bigint NOT NULL, imported_at bigint NOT NULL, updated_at bigint NOT NULL, size bigint NOT NULL DEFAULT 0, version bigint NOT NULL DEFAULT 0,
        UNIQUE (workspace_id, partner, cohort_id)
      );
      CREATE TABLE cohort_members (cohort text NOT NULL, kind text NOT NULL, member text NOT NULL, since bigint NOT NULL, PRIMARY KEY (cohort, kind, member));
      CREATE INDEX cohort_members_by_member ON cohort_members (kind, member);
      CREATE TABLE cohort_changes (
        id bigserial PRIMARY KEY, cohort text NOT NULL, at bigint NOT NULL, request_id text NOT NULL,
        joined bigint NOT NULL, left_count bigint NOT NULL, size_after bigint NOT NULL, name text
      );
      CREATE INDEX cohort_changes_by_cohort ON cohort_changes (cohort, id);
      CREATE TABLE data_import_keys (id text PRIMARY KEY, workspace_id text NOT NULL, key_hash text NOT NULL UNIQUE, hint text NOT NULL, created_at bigint NOT NULL);
    `,
  },
  {
    version: 10,
    name: "events delivered per minute by type (the volume by event type)",
    sql: "CREATE TABLE minute_types (current_id text NOT NULL, minute bigint NOT NULL, event_type text NOT NULL, delivered bigint NOT NULL, PRIMARY KEY (current_id, minute, event_type));",
  },
  {
    version: 11,
    name: "every delivery attempt of the last days (the durable attempt log)",
    sql: `
      CREATE TABLE attempts (
        id bigserial PRIMARY KEY, current_id text NOT NULL, at bigint NOT NULL, part integer,
        first_seq bigint NOT NULL, last_seq bigint NOT NULL, events integer NOT NULL, attempt integer NOT NULL,
        status integer, latency_ms integer NOT NULL, outcome text NOT NULL, error text, excerpt text NOT NULL, idempotency_key text
      );
      CREATE INDEX attempts_by_current ON attempts (current_id, id);
      CREATE INDEX attempts_by_range ON attempts (current_id, first_seq);
      CREATE INDEX attempts_at ON attempts (at);
      CREATE INDEX dead_letters_seq ON dead_letters (current_id, seq);
    `,
  },
];

/** Any constant: the advisory lock key of migrations. */
const MIGRATION_LOCK = 7_341_001;

export async function migratePostgres(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)");
    const { rows } = await client.query<{ v: number | null }>("SELECT max(version) AS v FROM schema_migrations");
    const current = rows[0]?.v ?? 0;
    const latest = pgMigrations[pgMigrations.length - 1]?.version ?? 0;
    if (current > latest) {
      throw new Error(`the database holds schema version ${current}, newer than this Currents understands (${latest}); upgrade Currents`);
    }
    for (const m of pgMigrations) {
      if (m.version <= current) continue;
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)", [m.version, m.name, Date.now()]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
}
