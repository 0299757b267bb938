import { accessSync, chmodSync, constants, existsSync, mkdirSync } from "node:fs";
import type Database from "better-sqlite3";
import { DataDirLock } from "./data-dir-lock.js";
import { join } from "node:path";
import { SqliteAttemptStore } from "./attempt-store.js";
import { assembleStore } from "../assemble-store.js";
import type { Store } from "../port.js";
import { SqliteConfigRepository } from "./config-repository.js";
import { SqliteDeadLetterStore } from "./dead-letter-store.js";
import { SqliteSourceStore } from "./source-store.js";
import { SqliteCohortStore } from "./cohort-store.js";
import { SqliteEventLog } from "./event-log.js";
import { SqliteLeaseStore } from "./lease-store.js";
import { migrate } from "./migrations.js";
import { openDatabase } from "./open-database.js";

export interface SqliteStoreOptions {
  readonly dataDir: string;
  readonly dedupeWindowMs: number;
}

/**
 * Opens (creating if needed) the embedded store at `<dataDir>/currents.db`: WAL mode,
 * synchronous=FULL so that every commit is fsync'd before it is acknowledged.
 */
export function openSqliteStore(options: SqliteStoreOptions): Store {
  try {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    accessSync(options.dataDir, constants.W_OK);
  } catch (error) {
    throw new Error(`data dir ${options.dataDir} is not writable: ${(error as Error).message}`, { cause: error });
  }
  const lock = DataDirLock.acquire(options.dataDir);
  const file = join(options.dataDir, "currents.db");
  let db: Database.Database;
  try {
    db = openDatabase(file);
    migrate(db);
  } catch (error) {
    lock.release();
    throw error;
  }
  // The store is readable by this user only (it holds people's events and sealed secrets).
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  // The embedded store belongs to one process (the lock above): leases left by a previous
  // run (killed before it could release them) must not hold its Currents back until they expire.
  db.exec("DELETE FROM leases");
  const events = new SqliteEventLog(db, file, options.dedupeWindowMs);
  const config = new SqliteConfigRepository(db);
  return assembleStore({
    kind: "sqlite",
    events,
    config,
    deadLetters: new SqliteDeadLetterStore(db),
    attempts: new SqliteAttemptStore(db),
    sources: new SqliteSourceStore(db),
    cohorts: new SqliteCohortStore(db),
    leases: new SqliteLeaseStore(db),
  }, {
    check: () => {
      db.prepare("SELECT 1").get();
      const health = events.healthy();
      if (!health.ok) throw new Error(health.reason);
    },
    async shutdown() {
      await events.drain();
      db.close();
      lock.release();
    },
  });
}
