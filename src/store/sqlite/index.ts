import { accessSync, constants, mkdirSync } from "node:fs";
import { join } from "node:path";
import { assembleStore } from "../assemble-store.js";
import type { Store } from "../port.js";
import { SqliteConfigRepository } from "./config-repository.js";
import { SqliteDeadLetterStore } from "./dead-letter-store.js";
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
  const file = join(options.dataDir, "currents.db");
  const db = openDatabase(file);
  migrate(db);
  // The embedded store belongs to one process: leases left by a previous run (killed before
  // it could release them) must not hold its Currents back until they expire.
  db.exec("DELETE FROM leases");
  const events = new SqliteEventLog(db, file, options.dedupeWindowMs);
  const config = new SqliteConfigRepository(db);
  return assembleStore({
    kind: "sqlite",
    events,
    config,
    deadLetters: new SqliteDeadLetterStore(db),
    leases: new SqliteLeaseStore(db),
  }, {
    check: () => db.prepare("SELECT 1").get(),
    async shutdown() {
      await events.drain();
      db.close();
    },
  });
}
