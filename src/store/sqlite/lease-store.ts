import type Database from "better-sqlite3";
import type { Lease, LeaseStore } from "../port.js";

/** Leases on the embedded store (one machine: this process's clock is the clock). */
export class SqliteLeaseStore implements LeaseStore {
  constructor(private readonly db: Database.Database, private readonly now: () => number = Date.now) {}

  async acquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const row = this.db.prepare(`INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
      WHERE leases.owner = excluded.owner OR leases.expires_at < ? RETURNING owner`).get(name, owner, now + ttlMs, now);
    return row !== undefined;
  }

  async release(name: string, owner: string): Promise<void> {
    this.db.prepare("DELETE FROM leases WHERE name = ? AND owner = ?").run(name, owner);
  }

  async live(prefix: string): Promise<Lease[]> {
    const rows = this.db.prepare("SELECT name, owner, expires_at FROM leases WHERE substr(name, 1, ?) = ? AND expires_at >= ? ORDER BY name")
      .all(prefix.length, prefix, this.now()) as Array<{ name: string; owner: string; expires_at: number }>;
    return rows.map((r) => ({ name: r.name, owner: r.owner, expiresAt: r.expires_at }));
  }
}
