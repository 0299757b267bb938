import type Database from "better-sqlite3";
import type { AppendOutcome, EventLog, EventSelection, NewEvent, ReadEventsQuery, ReadEventsResult, StoredEvent } from "../port.js";
import { type BucketQueries, type CountResult, bucketOf, countByBuckets } from "../bucket-counts.js";
import { readResult, readUpper } from "../read-window.js";
import { seqBeforeBySearch } from "../seq-before.js";
import { TailCache } from "../tail-cache.js";
import { packBodies } from "../pack-bodies.js";
import { WriterClient } from "./writer-client.js";

function decodeBodies(bodies: ArrayBuffer, ends: Uint32Array): string[] {
  const bytes = Buffer.from(bodies);
  return Array.from(ends, (end, i) => bytes.toString("utf8", i === 0 ? 0 : ends[i - 1], end));
}

/** Events kept in memory for Currents that keep up (see TailCache). */
const TAIL_BYTES = 64 * 1024 * 1024;
const TAIL_EVENTS = 100_000;
/** The tail is dropped when no reader came near the head for this long. */
const TAIL_IDLE_MS = 2_000;

/**
 * The event log on SQLite. Appends go to the writer thread (writer-client.ts), durable before
 * they resolve. Reads use this thread's own connection, or the tail cache of the newest events.
 */
export class SqliteEventLog implements EventLog {
  #head: number;
  readonly #writer: WriterClient;
  readonly #tail = new TailCache(TAIL_BYTES, TAIL_EVENTS);
  #tailWantedUntil = 0;
  #readStatements = new Map<number, Database.Statement>();
  #countStatements = new Map<number, Database.Statement>();
  #sumStatements = new Map<number, Database.Statement>();
  #firstBucketStatements = new Map<number, Database.Statement>();

  constructor(private readonly db: Database.Database, file: string, dedupeWindowMs: number) {
    this.#head = (db.prepare("SELECT coalesce(max(seq), 0) AS s FROM events").get() as { s: number }).s;
    this.#writer = new WriterClient(file, dedupeWindowMs);
  }

  /** False while the writer is down or the disk is full (for /readyz). */
  healthy(): { ok: true } | { ok: false; reason: string } {
    return this.#writer.healthy();
  }

  /** Stops the writer thread as a crash would (diagnostics and tests); it is started again. */
  terminateWriter(): Promise<void> {
    return this.#writer.terminate();
  }

  async append(events: readonly NewEvent[], now: number): Promise<AppendOutcome[]> {
    const packed = packBodies(events.map((e) => e.body));
    // Decoded copies, not the bodies themselves: a body sliced from a request's text would
    // keep that whole text alive for as long as the cache holds the event.
    const texts = this.#tailWanted(Date.now()) ? decodeBodies(packed.bodies, packed.bodyEnds) : [];
    const seqs = await this.#writer.write({
      now,
      workspaces: events.map((e) => e.workspace),
      ids: events.map((e) => e.id),
      types: events.map((e) => e.type),
      ...packed,
    });
    if (texts.length === 0 && this.#tail.newest !== 0) this.#tail.clear();
    return seqs.map((seq, i): AppendOutcome => {
      if (seq === 0) return "duplicate";
      const e = events[i] as NewEvent;
      if (texts.length > 0) this.#tail.push({ seq, workspace: e.workspace, type: e.type, receivedAt: now, body: texts[i] as string });
      if (seq > this.#head) this.#head = seq;
      return "stored";
    });
  }

  /** Waits for every append requested so far, then stops the writer (used when closing). */
  drain(): Promise<void> {
    return this.#writer.drain();
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

  /**
   * The tail is kept only while some reader is close to the head (a Current keeping up):
   * events of a paused Current, or of a backlog being drained, wait on disk, not in memory.
   */
  #tailWanted(now: number): boolean {
    return now < this.#tailWantedUntil;
  }

  async read(q: ReadEventsQuery): Promise<ReadEventsResult> {
    if (this.#head - q.afterSeq <= TAIL_EVENTS) this.#tailWantedUntil = Date.now() + TAIL_IDLE_MS;
    const cached = this.#tail.read(q, this.#head);
    if (cached) return cached;
    const upper = readUpper(q, this.#head);
    if (q.types.length === 0 || upper <= q.afterSeq) return readResult(q, [], upper);
    const st = this.#statement(this.#readStatements, q.types.length, (inList) =>
      // Bodies are stored as UTF-8 bytes (BLOB; rows written by earlier versions are TEXT): CAST reads either as text.
      `SELECT seq, event_type AS type, received_at AS receivedAt, CAST(body AS TEXT) AS body FROM events
       WHERE seq > ? AND seq <= ? AND workspace_id = ? AND event_type IN (${inList}) ORDER BY seq LIMIT ?`);
    const events = st.all(q.afterSeq, upper, q.workspace, ...q.types, q.limit) as StoredEvent[];
    return readResult(q, events, upper);
  }

  /** Bounded: whole buckets are summed from event_counts, only the two end buckets are scanned (see bucket-counts.ts). */
  async count(sel: EventSelection, afterSeq: number, toSeq?: number): Promise<CountResult> {
    return countByBuckets(this.#bucketQueries, sel, afterSeq, Math.min(toSeq ?? this.#head, this.#head));
  }

  readonly #bucketQueries: BucketQueries = {
    scan: (sel, afterSeq, uptoSeq) => this.#statement(this.#countStatements, sel.types.length, (inList) =>
      `SELECT count(*) AS count, min(received_at) AS oldestReceivedAt FROM events
       WHERE seq > ? AND seq <= ? AND workspace_id = ? AND event_type IN (${inList})`).get(afterSeq, uptoSeq, sel.workspace, ...sel.types) as CountResult,
    sumBuckets: (sel, from, to) => (this.#statement(this.#sumStatements, sel.types.length, (inList) =>
      `SELECT coalesce(sum(n), 0) AS n FROM event_counts WHERE workspace_id = ? AND event_type IN (${inList}) AND bucket >= ? AND bucket <= ?`)
      .get(sel.workspace, ...sel.types, from, to) as { n: number }).n,
    firstBucket: (sel, from, to) => (this.#statement(this.#firstBucketStatements, sel.types.length, (inList) =>
      `SELECT min(bucket) AS b FROM event_counts WHERE workspace_id = ? AND event_type IN (${inList}) AND bucket >= ? AND bucket <= ? AND n > 0`)
      .get(sel.workspace, ...sel.types, from, to) as { b: number | null }).b ?? undefined,
  };

  async seqBefore(receivedBefore: number): Promise<number> {
    return seqBeforeBySearch(this.#head, receivedBefore, (seq) => this.db.prepare("SELECT seq, received_at AS receivedAt FROM events WHERE seq >= ? ORDER BY seq LIMIT 1").get(seq) as { seq: number; receivedAt: number } | undefined);
  }

  async deleteUpTo(uptoSeq: number, maxRows: number): Promise<number> {
    const lo = (this.db.prepare("SELECT min(seq) AS lo FROM events").get() as { lo: number | null }).lo;
    if (lo === null || lo > uptoSeq) return 0;
    const hi = Math.min(uptoSeq, lo + maxRows - 1);
    return this.db.transaction(() => {
      const n = this.db.prepare("DELETE FROM events WHERE seq >= ? AND seq <= ?").run(lo, hi).changes;
      // Buckets now empty of events lose their counts (a bucket holds seqs b*2^14 .. (b+1)*2^14-1).
      this.db.prepare("DELETE FROM event_counts WHERE bucket < ?").run(bucketOf(hi + 1));
      return n;
    })();
  }

  async seenAt(workspace: string, id: string): Promise<number | undefined> {
    const row = this.db.prepare("SELECT seen_at FROM event_ids WHERE key = ?").get(`${workspace}\u0000${id}`) as { seen_at: number } | undefined;
    return row?.seen_at;
  }

  async pruneDedupe(seenBefore: number, maxRows: number): Promise<number> {
    return this.db
      .prepare("DELETE FROM event_ids WHERE key IN (SELECT key FROM event_ids WHERE seen_at < ? LIMIT ?)")
      .run(seenBefore, maxRows).changes;
  }
}
