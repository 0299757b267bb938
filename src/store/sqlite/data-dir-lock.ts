import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";

/**
 * One process per data directory: an exclusive SQLite lock on `<dataDir>/currents.lock`, held
 * for the life of the process. It is an operating-system lock, so a process killed with -9
 * lets go of it at once, and a second process on the same directory (an overlapping restart)
 * refuses to start instead of delivering the same Currents twice. `currents.lock.json` says
 * who holds it, for the message.
 */
export class DataDirLock {
  private constructor(private readonly db: Database.Database) {}

  static acquire(dataDir: string): DataDirLock {
    const db = new Database(join(dataDir, "currents.lock"));
    try {
      db.pragma("busy_timeout = 0");
      db.pragma("journal_mode = DELETE");
      db.pragma("locking_mode = EXCLUSIVE");
      db.exec("BEGIN EXCLUSIVE");
    } catch (error) {
      db.close();
      if ((error as { code?: string }).code !== "SQLITE_BUSY") throw error;
      throw new Error(`the data dir ${dataDir} is in use by another Currents process (${holder(dataDir)}); stop it first, or give this one another --data-dir`);
    }
    writeFileSync(join(dataDir, "currents.lock.json"), JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }), { mode: 0o600 });
    return new DataDirLock(db);
  }

  release(): void {
    this.db.close();
  }
}

function holder(dataDir: string): string {
  try {
    const h = JSON.parse(readFileSync(join(dataDir, "currents.lock.json"), "utf8")) as { pid?: number; host?: string; since?: string };
    return `pid ${h.pid} on ${h.host}, since ${h.since}`;
  } catch {
    return "unknown process";
  }
}
