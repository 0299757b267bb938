import type Database from "better-sqlite3";
import type { DeadLetter, DeadLetterStore } from "../port.js";
import { type DeadLetterRow as Row, toLetter } from "../rows.js";

export class SqliteDeadLetterStore implements DeadLetterStore {
  constructor(private readonly db: Database.Database) {}

  async add(letters: readonly Omit<DeadLetter, "id">[], options: { unlessHeld?: boolean } = {}): Promise<number> {
    const insert = this.db.prepare(
      "INSERT INTO dead_letters (current_id, seq, body, status, reason, excerpt, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    const held = this.db.prepare("SELECT 1 FROM dead_letters WHERE current_id = ? AND seq = ? LIMIT 1");
    // The Current's count of events ever dead-lettered moves in the same transaction.
    const count = this.db.prepare("UPDATE current_progress SET dead_lettered = dead_lettered + 1 WHERE current_id = ?");
    return this.db.transaction(() => {
      let added = 0;
      for (const l of letters) {
        if (options.unlessHeld && held.get(l.currentId, l.seq)) continue;
        insert.run(l.currentId, l.seq, l.body, l.status, l.reason, l.excerpt, l.createdAt);
        count.run(l.currentId);
        added++;
      }
      return added;
    })();
  }

  async list(currentId: string, limit: number, afterId = 0): Promise<DeadLetter[]> {
    const rows = this.db
      .prepare("SELECT * FROM dead_letters WHERE current_id = ? AND id > ? ORDER BY id LIMIT ?")
      .all(currentId, afterId, limit) as Row[];
    return rows.map(toLetter);
  }

  /** Held now: ever dead-lettered minus gone (both kept in the same transactions as the letters), no scan. */
  async count(currentId: string): Promise<number> {
    const row = this.db.prepare("SELECT dead_lettered - dead_letters_gone AS n FROM current_progress WHERE current_id = ?").get(currentId) as { n: number } | undefined;
    return row?.n ?? 0;
  }

  async reasons(currentId: string, sample: number): Promise<Array<{ reason: string; count: number }>> {
    return this.db.prepare(`SELECT reason, count(*) AS count FROM (SELECT reason FROM dead_letters WHERE current_id = ? ORDER BY id DESC LIMIT ?)
      GROUP BY reason ORDER BY count DESC, reason LIMIT 20`).all(currentId, sample) as Array<{ reason: string; count: number }>;
  }

  async get(currentId: string, ids: readonly number[]): Promise<DeadLetter[]> {
    const st = this.db.prepare("SELECT * FROM dead_letters WHERE current_id = ? AND id = ?");
    return ids.map((id) => st.get(currentId, id) as Row | undefined).filter((r): r is Row => r !== undefined).map(toLetter);
  }

  async bySeq(currentId: string, seq: number): Promise<DeadLetter[]> {
    return (this.db.prepare("SELECT * FROM dead_letters WHERE current_id = ? AND seq = ? ORDER BY id").all(currentId, seq) as Row[]).map(toLetter);
  }

  async ids(currentId: string, limit: number, afterId = 0): Promise<number[]> {
    return (this.db.prepare("SELECT id FROM dead_letters WHERE current_id = ? AND id > ? ORDER BY id LIMIT ?").all(currentId, afterId, limit) as Array<{ id: number }>).map((r) => r.id);
  }

  async pruneBefore(before: number, maxRows: number): Promise<Array<{ currentId: string; count: number }>> {
    return this.db.transaction(() => {
      const rows = this.db.prepare("SELECT id, current_id FROM dead_letters WHERE created_at < ? ORDER BY created_at LIMIT ?").all(before, maxRows) as Array<{ id: number; current_id: string }>;
      const del = this.db.prepare("DELETE FROM dead_letters WHERE id = ?");
      const counts = new Map<string, number>();
      for (const r of rows) {
        del.run(r.id);
        counts.set(r.current_id, (counts.get(r.current_id) ?? 0) + 1);
      }
      const gone = this.db.prepare("UPDATE current_progress SET dead_letters_gone = dead_letters_gone + ? WHERE current_id = ?");
      for (const [currentId, n] of counts) gone.run(n, currentId);
      return [...counts].map(([currentId, count]) => ({ currentId, count }));
    })();
  }

  async remove(currentId: string, ids: readonly number[]): Promise<number> {
    const del = this.db.prepare("DELETE FROM dead_letters WHERE current_id = ? AND id = ?");
    const gone = this.db.prepare("UPDATE current_progress SET dead_letters_gone = dead_letters_gone + ? WHERE current_id = ?");
    return this.db.transaction(() => {
      const n = ids.reduce((sum, id) => sum + del.run(currentId, id).changes, 0);
      if (n > 0) gone.run(n, currentId);
      return n;
    })();
  }
}
