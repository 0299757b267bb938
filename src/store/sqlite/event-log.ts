import type Database from "better-sqlite3";
import type { AppendOutcome, EventLog, EventSelection, NewEvent, ReadEventsQuery, ReadEventsResult, StoredEvent } from "../port.js";

interface PendingAppend {
  readonly events: readonly NewEvent[];
  readonly now: number;
  resolve(outcomes: AppendOutcome[]): void;
  reject(error: unknown): void;
}

/**
 * The event log on SQLite. Appends use group commit: every append requested in the same
 * turn of the event loop is written in one transaction, and one fsync (synchronous=FULL in
 * WAL mode) makes all of them durable before any of their promises resolves.
 */
export class SqliteEventLog implements EventLog {
  #pending: PendingAppend[] = [];
  #flushScheduled = false;
  #head: number;
  #readStatements = new Map<number, Database.Statement>();
  #countStatements = new Map<number, Database.Statement>();
  readonly #markSeen: Database.Statement;
  readonly #insert: Database.Statement;

  constructor(private readonly db: Database.Database, private readonly dedupeWindowMs: number) {
    this.#markSeen = db.prepare(
      "INSERT INTO event_ids (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at WHERE event_ids.seen_at < ?",
    );
    this.#insert = db.prepare("INSERT INTO events (workspace_id, event_type, received_at, body) VALUES (?, ?, ?, ?)");
    this.#head = (db.prepare("SELECT coalesce(max(seq), 0) AS s FROM events").get() as { s: number }).s;
  }

  append(events: readonly NewEvent[], now: number): Promise<AppendOutcome[]> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ events, now, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    let results: AppendOutcome[][];
    try {
      results = this.db.transaction(() => batch.map((p) => this.#write(p)))();
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    this.#head = (this.db.prepare("SELECT coalesce(max(seq), 0) AS s FROM events").get() as { s: number }).s;
    batch.forEach((p, i) => p.resolve(results[i] as AppendOutcome[]));
  }

  #write(p: PendingAppend): AppendOutcome[] {
    const cutoff = p.now - this.dedupeWindowMs;
    return p.events.map((e) => {
      const fresh = this.#markSeen.run(`${e.workspace}\u0000${e.id}`, p.now, cutoff).changes > 0;
      if (!fresh) return "duplicate";
      this.#insert.run(e.workspace, e.type, p.now, e.body);
      return "stored";
    });
  }

  /** Resolves once every append requested so far is committed (used before closing). */
  async drain(): Promise<void> {
    while (this.#pending.length > 0 || this.#flushScheduled) await new Promise((r) => setImmediate(r));
  }

  async headSeq(): Promise<number> {
    return this.#head;
  }

  async size(): Promise<number> {
    const row = this.db.prepare("SELECT min(seq) AS lo FROM events").get() as { lo: number | null };
    return row.lo === null ? 0 : this.#head - row.lo + 1;
  }

  #statement(cache: Map<number, Database.Statement>, n: number, sql: (inList: string) => string): Database.Statement {
    let st = cache.get(n);
    if (!st) {
      st = this.db.prepare(sql(Array.from({ length: n }, () => "?").join(",")));
      cache.set(n, st);
    }
    return st;
  }

  async read(q: ReadEventsQuery): Promise<ReadEventsResult> {
    const upper = Math.min(q.afterSeq + q.scanLimit, this.#head);
    if (q.types.length === 0 || upper <= q.afterSeq) return { events: [], scannedTo: Math.max(q.afterSeq, upper) };
    const st = this.#statement(this.#readStatements, q.types.length, (inList) =>
      `SELECT seq, event_type AS type, received_at AS receivedAt, body FROM events
       WHERE seq > ? AND seq <= ? AND workspace_id = ? AND event_type IN (${inList}) ORDER BY seq LIMIT ?`);
    const events = st.all(q.afterSeq, upper, q.workspace, ...q.types, q.limit) as StoredEvent[];
    const scannedTo = events.length >= q.limit ? (events[events.length - 1] as StoredEvent).seq : upper;
    return { events, scannedTo };
  }

  async count(sel: EventSelection, afterSeq: number, toSeq?: number): Promise<{ count: number; oldestReceivedAt: number | null }> {
    if (sel.types.length === 0) return { count: 0, oldestReceivedAt: null };
    const st = this.#statement(this.#countStatements, sel.types.length, (inList) =>
      `SELECT count(*) AS count, min(received_at) AS oldestReceivedAt FROM events
       WHERE seq > ? AND seq <= ? AND workspace_id = ? AND event_type IN (${inList})`);
    return st.get(afterSeq, toSeq ?? this.#head, sel.workspace, ...sel.types) as { count: number; oldestReceivedAt: number | null };
  }

  async seqBefore(receivedBefore: number): Promise<number> {
    // received_at grows with seq (both are assigned at commit), so walking up from the
    // oldest event stops at the first one young enough: only expired rows are visited.
    const row = this.db
      .prepare("SELECT seq FROM events WHERE received_at >= ? ORDER BY seq LIMIT 1")
      .get(receivedBefore) as { seq: number } | undefined;
    return row ? row.seq - 1 : this.#head;
  }

  async deleteUpTo(uptoSeq: number, maxRows: number): Promise<number> {
    const lo = (this.db.prepare("SELECT min(seq) AS lo FROM events").get() as { lo: number | null }).lo;
    if (lo === null || lo > uptoSeq) return 0;
    const hi = Math.min(uptoSeq, lo + maxRows - 1);
    return this.db.prepare("DELETE FROM events WHERE seq >= ? AND seq <= ?").run(lo, hi).changes;
  }

  async pruneDedupe(seenBefore: number, maxRows: number): Promise<number> {
    return this.db
      .prepare("DELETE FROM event_ids WHERE key IN (SELECT key FROM event_ids WHERE seen_at < ? LIMIT ?)")
      .run(seenBefore, maxRows).changes;
  }
}
