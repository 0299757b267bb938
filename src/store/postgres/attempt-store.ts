import type pg from "pg";
import type { AttemptQuery, AttemptRow, AttemptStore } from "../port.js";
import { ATTEMPT_COLUMNS, type AttemptDbRow, COVERING_SCAN, attemptValues, outcomeFilter, toAttempt } from "../rows.js";
import { guarded } from "./errors.js";

export class PostgresAttemptStore implements AttemptStore {
  constructor(private readonly pool: pg.Pool) {}

  async add(rows: readonly Omit<AttemptRow, "id">[]): Promise<void> {
    if (rows.length === 0) return;
    const values = rows.map((_, i) => `(${Array.from({ length: 13 }, (_, j) => `$${i * 13 + j + 1}`).join(", ")})`);
    await guarded(() => this.pool.query(`INSERT INTO attempts (${ATTEMPT_COLUMNS}) VALUES ${values.join(", ")}`, rows.flatMap(attemptValues)));
  }

  async list(q: AttemptQuery): Promise<AttemptRow[]> {
    const o = outcomeFilter(q.outcome, "$6");
    const params: unknown[] = [q.currentId, q.beforeId ?? Number.MAX_SAFE_INTEGER, q.since ?? 0, q.until ?? Number.MAX_SAFE_INTEGER, q.limit];
    if (o.value !== undefined) params.push(o.value);
    const r = await guarded(() => this.pool.query<AttemptDbRow>(
      `SELECT * FROM attempts WHERE current_id = $1 AND id < $2 AND at >= $3 AND at < $4${o.sql} ORDER BY id DESC LIMIT $5`, params));
    return r.rows.map(toAttempt);
  }

  async covering(currentId: string, seq: number, partition: number | null): Promise<AttemptRow[]> {
    const r = await guarded(() => this.pool.query<AttemptDbRow>(
      `SELECT * FROM (SELECT * FROM attempts WHERE current_id = $1 AND first_seq <= $2 ORDER BY first_seq DESC LIMIT ${COVERING_SCAN}) a
       WHERE last_seq >= $2 AND ($3::integer IS NULL OR part = $3) ORDER BY id`, [currentId, seq, partition]));
    return r.rows.map(toAttempt);
  }

  async pruneBefore(before: number, maxRows: number): Promise<number> {
    return (await guarded(() => this.pool.query("DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE at < $1 LIMIT $2)", [before, maxRows]))).rowCount ?? 0;
  }

  async summary(currentId: string, since: number): Promise<{ total: number; failed: number }> {
    const r = await guarded(() => this.pool.query<{ total: string; failed: string }>(
      "SELECT count(*) AS total, count(*) FILTER (WHERE outcome <> 'delivered') AS failed FROM attempts WHERE current_id = $1 AND at >= $2 AND outcome <> 'test'", [currentId, since]));
    return { total: Number(r.rows[0]?.total ?? 0), failed: Number(r.rows[0]?.failed ?? 0) };
  }
}
