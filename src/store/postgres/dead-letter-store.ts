import type pg from "pg";
import type { DeadLetter, DeadLetterStore } from "../port.js";
import { type DeadLetterRow as Row, toLetter } from "../rows.js";
import { guarded } from "./errors.js";

export class PostgresDeadLetterStore implements DeadLetterStore {
  constructor(private readonly pool: pg.Pool) {}

  async add(letters: readonly Omit<DeadLetter, "id">[]): Promise<void> {
    if (letters.length === 0) return;
    const values = letters.map((_, i) => `($${i * 7 + 1}, $${i * 7 + 2}, $${i * 7 + 3}, $${i * 7 + 4}, $${i * 7 + 5}, $${i * 7 + 6}, $${i * 7 + 7})`);
    await guarded(() => this.pool.query(`INSERT INTO dead_letters (current_id, seq, body, status, reason, excerpt, created_at) VALUES ${values.join(", ")}`,
      letters.flatMap((l) => [l.currentId, l.seq, l.body, l.status, l.reason, l.excerpt, l.createdAt])));
  }

  async list(currentId: string, limit: number, afterId = 0): Promise<DeadLetter[]> {
    return (await guarded(() => this.pool.query<Row>("SELECT * FROM dead_letters WHERE current_id = $1 AND id > $2 ORDER BY id LIMIT $3", [currentId, afterId, limit]))).rows.map(toLetter);
  }

  async count(currentId: string): Promise<number> {
    return (await guarded(() => this.pool.query<{ n: number }>("SELECT count(*)::bigint AS n FROM dead_letters WHERE current_id = $1", [currentId]))).rows[0]?.n ?? 0;
  }

  async get(currentId: string, ids: readonly number[]): Promise<DeadLetter[]> {
    if (ids.length === 0) return [];
    return (await guarded(() => this.pool.query<Row>("SELECT * FROM dead_letters WHERE current_id = $1 AND id = ANY($2) ORDER BY id", [currentId, ids]))).rows.map(toLetter);
  }

  async remove(currentId: string, ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    return (await guarded(() => this.pool.query("DELETE FROM dead_letters WHERE current_id = $1 AND id = ANY($2)", [currentId, ids]))).rowCount ?? 0;
  }
}
