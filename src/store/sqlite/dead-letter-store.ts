import type Database from "better-sqlite3";
import type { DeadLetter, DeadLetterStore } from "../port.js";
import { type DeadLetterRow as Row, toLetter } from "../rows.js";

export class SqliteDeadLetterStore implements DeadLetterStore {
  constructor(private readonly db: Database.Database) {}

  async add(letters: readonly Omit<DeadLetter, "id">[]): Promise<void> {
    const insert = this.db.prepare(
      "INSERT INTO dead_letters (current_id, seq, body, status, reason, excerpt, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.db.transaction(() => {
      for (const l of letters) insert.run(l.currentId, l.seq, l.body, l.status, l.reason, l.excerpt, l.createdAt);
    })();
  }

  async list(currentId: string, limit: number, afterId = 0): Promise<DeadLetter[]> {
    const rows = this.db
      .prepare("SELECT * FROM dead_letters WHERE current_id = ? AND id > ? ORDER BY id LIMIT ?")
      .all(currentId, afterId, limit) as Row[];
    return rows.map(toLetter);
  }

  async count(currentId: string): Promise<number> {
    return (this.db.prepare("SELECT count(*) AS n FROM dead_letters WHERE current_id = ?").get(currentId) as { n: number }).n;
  }

  async get(currentId: string, ids: readonly number[]): Promise<DeadLetter[]> {
    const st = this.db.prepare("SELECT * FROM dead_letters WHERE current_id = ? AND id = ?");
    return ids.map((id) => st.get(currentId, id) as Row | undefined).filter((r): r is Row => r !== undefined).map(toLetter);
  }

  async remove(currentId: string, ids: readonly number[]): Promise<number> {
    const del = this.db.prepare("DELETE FROM dead_letters WHERE current_id = ? AND id = ?");
    return this.db.transaction(() => ids.reduce((n, id) => n + del.run(currentId, id).changes, 0))();
  }
}
