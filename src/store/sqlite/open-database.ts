import Database from "better-sqlite3";

/** Opens the embedded store's file with the settings every connection to it uses. */
export function openDatabase(file: string): Database.Database {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  // Every commit is fsync'd before it is acknowledged.
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  // 16 MB of pages: reads go mostly forward through recent events; memory stays small.
  db.pragma("cache_size = -16384");
  db.pragma("temp_store = MEMORY");
  return db;
}
