import pg from "pg";
import type { Logger } from "pino";
import { PostgresAttemptStore } from "./attempt-store.js";
import { assembleStore } from "../assemble-store.js";
import type { Store } from "../port.js";
import { AppendedListener } from "./appended-listener.js";
import { PostgresConfigRepository } from "./config-repository.js";
import { PostgresDeadLetterStore } from "./dead-letter-store.js";
import { PostgresSourceStore } from "./source-store.js";
import { PostgresCohortStore } from "./cohort-store.js";
import { PostgresEventLog } from "./event-log.js";
import { PostgresLeaseStore } from "./lease-store.js";
import { migratePostgres } from "./migrations.js";

export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:port/db` (never logged). */
  readonly url: string;
  readonly dedupeWindowMs: number;
  /** Connections this process may open at most. @defaultValue 10 */
  readonly poolMax?: number;
  readonly logger?: Logger;
}

/** bigint columns (seqs, times in ms) fit in a double: read them as numbers. */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

/** A connection pool to the database, migrated to this version's schema (server mode, and JetStream mode's configuration). */
export async function connectPostgres(o: PostgresStoreOptions): Promise<{ pool: pg.Pool; connection: pg.ClientConfig }> {
  // Every query has a deadline: the server cancels a statement after 10 s, the client gives up
  // after 15 s (a hung database or network), so no caller waits forever and leases can fence.
  const connection: pg.ClientConfig = {
    connectionString: o.url, connectionTimeoutMillis: 5_000, types, application_name: "currents",
    statement_timeout: 10_000, query_timeout: 15_000, idle_in_transaction_session_timeout: 30_000,
  };
  const pool = new pg.Pool({ ...connection, max: o.poolMax ?? 10, idleTimeoutMillis: 30_000 });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on("error", (err) => o.logger?.warn({ err: { message: err.message } }, "a database connection was lost; the pool opens a new one when needed"));
  // ...and neither must a client that loses it while checked out between two queries (the
  // query under way, if any, fails and its caller handles that).
  pool.on("connect", (client) => client.on("error", () => undefined));
  try {
    await migratePostgres(pool);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new Error(`could not prepare the database: ${(error as Error).message}`, { cause: error });
  }
  return { pool, connection };
}

/** Opens the server-mode store: everything, events included, in PostgreSQL. */
export async function openPostgresStore(o: PostgresStoreOptions): Promise<Store> {
  const { pool, connection } = await connectPostgres(o);
  const events = new PostgresEventLog(pool, o.dedupeWindowMs);
  const listener = new AppendedListener(connection, o.logger);
  return assembleStore({
    kind: "postgres",
    events,
    config: new PostgresConfigRepository(pool),
    deadLetters: new PostgresDeadLetterStore(pool),
    attempts: new PostgresAttemptStore(pool),
    sources: new PostgresSourceStore(pool),
    cohorts: new PostgresCohortStore(pool),
    leases: new PostgresLeaseStore(pool),
    onAppended: (l) => listener.subscribe(l),
  }, {
    check: () => pool.query("SELECT 1"),
    async shutdown() {
      await events.drain();
      await listener.close();
      await pool.end();
    },
  });
}
