import type Database from "better-sqlite3";
import type { AttemptQuery, AttemptRow, AttemptStore } from "../port.js";
import { ATTEMPT_COLUMNS, type AttemptDbRow, COVERING_SCAN, attemptValues, outcomeFilter, toAttempt } from "../rows.js";

export class SqliteAttemptStore implements AttemptStore {
  readonly #insert: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.#insert = db.prepare(`INSERT INTO attempts (${ATTEMPT_COLUMNS}) VALUES (${Array(13).fill("?").join(", ")})`);
  }

  async add(rows: readonly Omit<AttemptRow, "id">[]): Promise<void> {
    this.db.transaction(() => {
      for (const r of rows) this.#insert.run(...attemptValues(r));
    })();
  }

  async list(q: AttemptQuery): Promise<AttemptRow[]> {
    const o = outcomeFilter(q.outcome, "?");
    const params: unknown[] = [q.currentId, q.beforeId ?? Number.MAX_SAFE_INTEGER, q.since ?? 0, q.until ?? Number.MAX_SAFE_INTEGER];
    if (o.value !== undefined) params.push(o.value);
    const rows = this.db.prepare(`SELECT * FROM attempts WHERE current_id = ? AND id < ? AND at >= ? AND at < ?${o.sql} ORDER BY id DESC LIMIT ?`)
      .all(...params, q.limit) as AttemptDbRow[];
    return rows.map(toAttempt);
  }

  async covering(currentId: string, seq: number, partition: number | null): Promise<AttemptRow[]> {
    const rows = this.db.prepare(`SELECT * FROM (SELECT * FROM attempts WHERE current_id = ? AND first_seq <= ? ORDER BY first_seq DESC LIMIT ${COVERING_SCAN})
      WHERE last_seq >= ? AND (? IS NULL OR part = ?) ORDER BY id`).all(currentId, seq, seq, partition, partition) as AttemptDbRow[];
    return rows.map(toAttempt);
  }

  async pruneBefore(before: number, maxRows: number): Promise<number> {
    return this.db.prepare("DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE at < ? LIMIT ?)").run(before, maxRows).changes;
  }

  async summary(currentId: string, since: number): Promise<{ total: number; failed: number }> {
    const r = this.db.prepare("SELECT count(*) AS total, coalesce(sum(outcome <> 'delivered'), 0) AS failed FROM attempts WHERE current_id = ? AND at >= ? AND outcome <> 'test'")
      .get(currentId, since) as { total: number; failed: number };
    return r;
  }
}
