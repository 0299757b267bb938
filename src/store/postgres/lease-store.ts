import type pg from "pg";
import type { Lease, LeaseStore } from "../port.js";
import { guarded } from "./errors.js";

/** Leases on PostgreSQL, timed by the database's clock so machines need not agree on time. */
export class PostgresLeaseStore implements LeaseStore {
  constructor(private readonly pool: pg.Pool) {}

  async acquire(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const { rowCount } = await guarded(() => this.pool.query(`INSERT INTO leases (name, owner, expires_at)
      VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond')
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
      WHERE leases.owner = excluded.owner OR leases.expires_at < clock_timestamp() RETURNING owner`, [name, owner, ttlMs]));
    return (rowCount ?? 0) > 0;
  }

  async release(name: string, owner: string): Promise<void> {
    await guarded(() => this.pool.query("DELETE FROM leases WHERE name = $1 AND owner = $2", [name, owner]));
  }

  async live(prefix: string): Promise<Lease[]> {
    const { rows } = await guarded(() => this.pool.query<{ name: string; owner: string; expires_at: Date }>(
      "SELECT name, owner, expires_at FROM leases WHERE starts_with(name, $1) AND expires_at >= clock_timestamp() ORDER BY name", [prefix]));
    return rows.map((r) => ({ name: r.name, owner: r.owner, expiresAt: r.expires_at.getTime() }));
  }
}
