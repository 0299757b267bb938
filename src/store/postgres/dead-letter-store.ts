import type pg from "pg";
import type { DeadLetter, DeadLetterStore } from "../port.js";
import { type DeadLetterRow as Row, toLetter } from "../rows.js";
import { guarded } from "./errors.js";

export class PostgresDeadLetterStore implements DeadLetterStore {
  constructor(private readonly pool: pg.Pool) {}

  async add(letters: readonly Omit<DeadLetter, "id">[], options: { unlessHeld?: boolean } = {}): Promise<number> {
    if (letters.length === 0) return 0;
    const values = letters.map((_, i) => `($${i * 7 + 1}, $${i * 7 + 2}::bigint, $${i * 7 + 3}, $${i * 7 + 4}::integer, $${i * 7 + 5}, $${i * 7 + 6}, $${i * 7 + 7}::bigint)`);
    // With unlessHeld, a letter whose (Current, seq) is held is left out. The Current's count of
    // events ever dead-lettered moves in the same statement.
    const r = await guarded(() => this.pool.query<{ n: string }>(`WITH given (current_id, seq, body, status, reason, excerpt, created_at) AS (VALUES ${values.join(", ")}),
      added AS (
        INSERT INTO dead_letters (current_id, seq, body, status, reason, excerpt, created_at)
        SELECT * FROM given g WHERE NOT $${letters.length * 7 + 1}::boolean OR NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.current_id = g.current_id AND d.seq = g.seq)
        RETURNING current_id),
      counted AS (
        UPDATE current_progress p SET dead_lettered = p.dead_lettered + a.n FROM (SELECT current_id, count(*) AS n FROM added GROUP BY current_id) a
        WHERE p.current_id = a.current_id RETURNING a.n)
      SELECT coalesce(sum(n), 0) AS n FROM counted`,
    [...letters.flatMap((l) => [l.currentId, l.seq, l.body, l.status, l.reason, l.excerpt, l.createdAt]), options.unlessHeld === true]));
    return Number(r.rows[0]?.n ?? 0);
  }

  async list(currentId: string, limit: number, afterId = 0): Promise<DeadLetter[]> {
    return (await guarded(() => this.pool.query<Row>("SELECT * FROM dead_letters WHERE current_id = $1 AND id > $2 ORDER BY id LIMIT $3", [currentId, afterId, limit]))).rows.map(toLetter);
  }

  /** Held now: ever dead-lettered minus gone (both kept in the same statements as the letters), no scan. */
  async count(currentId: string): Promise<number> {
    return Number((await guarded(() => this.pool.query<{ n: number }>("SELECT dead_lettered - dead_letters_gone AS n FROM current_progress WHERE current_id = $1", [currentId]))).rows[0]?.n ?? 0);
  }

  async reasons(currentId: string, sample: number): Promise<Array<{ reason: string; count: number }>> {
    const r = await guarded(() => this.pool.query<{ reason: string; count: string }>(`SELECT reason, count(*) AS count FROM (SELECT reason FROM dead_letters WHERE current_id = $1 ORDER BY id DESC LIMIT $2) s
      GROUP BY reason ORDER BY count(*) DESC, reason LIMIT 20`, [currentId, sample]));
    return r.rows.map((x) => ({ reason: x.reason, count: Number(x.count) }));
  }

  async get(currentId: string, ids: readonly number[]): Promise<DeadLetter[]> {
    if (ids.length === 0) return [];
    return (await guarded(() => this.pool.query<Row>("SELECT * FROM dead_letters WHERE current_id = $1 AND id = ANY($2) ORDER BY id", [currentId, ids]))).rows.map(toLetter);
  }

  async ids(currentId: string, limit: number, afterId = 0): Promise<number[]> {
    return (await guarded(() => this.pool.query<{ id: number }>("SELECT id FROM dead_letters WHERE current_id = $1 AND id > $2 ORDER BY id LIMIT $3", [currentId, afterId, limit]))).rows.map((r) => Number(r.id));
  }

  async bySeq(currentId: string, seq: number): Promise<DeadLetter[]> {
    return (await guarded(() => this.pool.query<Row>("SELECT * FROM dead_letters WHERE current_id = $1 AND seq = $2 ORDER BY id", [currentId, seq]))).rows.map(toLetter);
  }

  async pruneBefore(before: number, maxRows: number): Promise<Array<{ currentId: string; count: number }>> {
    const { rows } = await guarded(() => this.pool.query<{ current_id: string; n: number }>(
      `WITH gone AS (DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE created_at < $1 ORDER BY created_at LIMIT $2) RETURNING current_id),
       per AS (SELECT current_id, count(*)::bigint AS n FROM gone GROUP BY current_id),
       counted AS (UPDATE current_progress p SET dead_letters_gone = p.dead_letters_gone + per.n FROM per WHERE p.current_id = per.current_id)
       SELECT current_id, n FROM per`, [before, maxRows]));
    return rows.map((r) => ({ currentId: r.current_id, count: Number(r.n) }));
  }

  async remove(currentId: string, ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const { rows } = await guarded(() => this.pool.query<{ n: number }>(
      `WITH gone AS (DELETE FROM dead_letters WHERE current_id = $1 AND id = ANY($2) RETURNING 1),
       counted AS (UPDATE current_progress SET dead_letters_gone = dead_letters_gone + (SELECT count(*) FROM gone) WHERE current_id = $1)
       SELECT count(*)::bigint AS n FROM gone`, [currentId, ids]));
    return Number(rows[0]?.n ?? 0);
  }
}
