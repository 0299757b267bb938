import type pg from "pg";
import { type AppendOutcome, type EventLog, type EventSelection, type NewEvent, type ReadEventsQuery, type ReadEventsResult, type StoredEvent, StoreUnavailableError } from "../port.js";
import { type BucketQueries, type CountResult, bucketOf, countByBuckets } from "../bucket-counts.js";
import { readResult, readUpper } from "../read-window.js";
import { seqBeforeBySearch } from "../seq-before.js";
import { guarded } from "./errors.js";
import { AppendGroups, type PendingAppend } from "../append-groups.js";
import { packBodies } from "../pack-bodies.js";

/** Any constant: the advisory lock that orders appends (seq order = commit order). */
const APPEND_LOCK = 7_341_002;
export const APPENDED_CHANNEL = "currents_appended";

/**
 * One statement stores a whole group commit: workspaces, ids and types travel as text arrays,
 * the bodies as one bytea of UTF-8 sliced by (start, length) (PostgreSQL copies bytes and
 * checks the encoding; it parses no JSON: half the statement's time when the bodies were one
 * JSON array, measured with 2,000-event groups). Ids seen within the window are skipped, first
 * occurrences win, and the seq given to each input position comes back.
 * $1 workspaces, $2 ids, $3 types, $4 bodies, $5 starts (1-based), $6 lengths, $7 now,
 * $8 the window's cutoff, $9 the seq sequence (looked up once: not once per row), $10 the
 * append lock, $11 the channel told of new events.
 *
 * It is its own transaction (one round trip, not five): the advisory lock is taken once,
 * before any input row is read (an InitPlan), so before any seq is drawn, and it is held to
 * the commit; NOTIFY, per workspace of the group, is sent at the commit (the workspaces are
 * read from $1, not from the stored rows: a tenth of the statement's time when measured).
 */
const APPEND_SQL = `
WITH input AS (
  SELECT ws, id, type, convert_from(substring($4::bytea FROM s FOR l), 'UTF8') AS body, ord
  FROM unnest($1::text[], $2::text[], $3::text[], $5::int[], $6::int[]) WITH ORDINALITY AS t(ws, id, type, s, l, ord)
  WHERE (SELECT 1 FROM pg_advisory_xact_lock($10)) = 1
), firsts AS (
  SELECT DISTINCT ON (ws, id) ws, id, type, body, ord FROM input ORDER BY ws, id, ord
), fresh AS (
  INSERT INTO event_ids AS e (workspace_id, event_id, seen_at) SELECT ws, id, $7 FROM firsts
  ON CONFLICT (workspace_id, event_id) DO UPDATE SET seen_at = excluded.seen_at WHERE e.seen_at < $8
  RETURNING workspace_id, event_id
), numbered AS (
  SELECT nextval($9::regclass) AS seq, f.ws, f.type, f.body, f.ord
  FROM (SELECT f.* FROM firsts f JOIN fresh ON fresh.workspace_id = f.ws AND fresh.event_id = f.id ORDER BY f.ord) f
), stored AS (
  INSERT INTO events (seq, workspace_id, event_type, received_at, body) SELECT seq, ws, type, $7, body FROM numbered
), counted AS (
  INSERT INTO event_counts AS c (workspace_id, event_type, bucket, n)
  SELECT ws, type, seq >> 14, count(*) FROM numbered GROUP BY 1, 2, 3
  ON CONFLICT (workspace_id, event_type, bucket) DO UPDATE SET n = c.n + excluded.n
), notified AS (
  SELECT count(pg_notify($11, ws)) AS n FROM (SELECT DISTINCT unnest($1::text[]) AS ws) w
)
SELECT ord::int AS ord, seq FROM numbered, notified`;

/** A Current's read: $1 after seq, $2 scan limit, $3 workspace, $4 types, $5 limit (see `read`). */
export const READ_SQL = `SELECT h.head, e.seq, e.event_type AS type, e.received_at AS "receivedAt", e.body
  FROM (SELECT coalesce(max(seq), 0) AS head FROM events) h
  LEFT JOIN LATERAL (
    SELECT seq, event_type, received_at, body FROM events
    WHERE seq > $1 AND seq <= least($1 + $2, h.head) AND workspace_id = $3 AND event_type = ANY($4)
    ORDER BY seq LIMIT $5
  ) e ON true`;

/**
 * Until `events` has statistics, PostgreSQL guesses that a read's window holds a row or two
 * and plans a bitmap scan of the whole window (up to 100,000 rows) and a sort, instead of
 * walking the primary key in order and stopping at the limit: 14 ms a read instead of 0.1 ms
 * on a fresh database (measured), for the minute or more before autovacuum first analyzes it.
 * So this process asks for ANALYZE itself after 1,000 appended events, then after each
 * doubling up to about a million; past that the statistics autovacuum keeps are enough
 * (PostgreSQL reads the real upper end of the seq index for values past its histogram).
 */
const FIRST_ANALYZE_AT = 1_000;
const LAST_ANALYZE_AT = 1 << 20;

/**
 * The event log on PostgreSQL. Appends from one process are grouped (every request that
 * arrives while a commit runs goes into the next one); appends of all processes are
 * serialised by an advisory lock held to commit, so a reader that saw seq N has seen
 * every event below N, and a cursor never skips an event committed late.
 */
export class PostgresEventLog implements EventLog {
  readonly #groups = new AppendGroups((batch) => guarded(() => this.#write(batch)), async (batch, error) => {
    if (error instanceof StoreUnavailableError || batch.length === 1) {
      for (const p of batch) p.reject(error);
      return;
    }
    // Something in one request failed the whole group: each request is written alone,
    // so it fails only itself and the others' events are stored.
    for (const p of batch) {
      try {
        p.resolve((await guarded(() => this.#write([p])))[0] as AppendOutcome[]);
      } catch (own) {
        p.reject(own);
      }
    }
  });

  #appended = 0;
  #analyzeAt = FIRST_ANALYZE_AT;
  /** The name of the events' seq sequence, looked up at the first append. */
  #sequence: Promise<string> | undefined;

  constructor(private readonly pool: pg.Pool, private readonly dedupeWindowMs: number) {}

  append(events: readonly NewEvent[], now: number): Promise<AppendOutcome[]> {
    return this.#groups.append(events, now);
  }

  async #write(batch: PendingAppend[]): Promise<AppendOutcome[][]> {
    const now = batch[batch.length - 1]?.now ?? Date.now();
    const events = batch.flatMap((p) => p.events);
    const { bodies, bodyEnds } = packBodies(events.map((e) => e.body));
    const starts = new Array<number>(events.length);
    const lengths = new Array<number>(events.length);
    bodyEnds.forEach((end, i) => {
      const start = i === 0 ? 0 : (bodyEnds[i - 1] as number);
      starts[i] = start + 1;
      lengths[i] = end - start;
    });
    const packed = Buffer.from(bodies, 0, bodyEnds[bodyEnds.length - 1] ?? 0);
    this.#sequence ??= guarded(async () => (await this.pool.query<{ s: string }>("SELECT pg_get_serial_sequence('events', 'seq') AS s")).rows[0]?.s ?? "events_seq_seq")
      .catch((error: unknown) => { this.#sequence = undefined; throw error; });
    const sequence = await this.#sequence;
    const { rows } = await this.pool.query<{ ord: number; seq: number }>(APPEND_SQL, [events.map((e) => e.workspace), events.map((e) => e.id), events.map((e) => e.type),
      packed, starts, lengths, now, now - this.dedupeWindowMs, sequence, APPEND_LOCK, APPENDED_CHANNEL]);
    this.#analyzeWhenGrown(rows.length);
    const stored = new Set(rows.map((r) => r.ord));
    let ord = 0;
    return batch.map((p) => p.events.map(() => (stored.has(++ord) ? "stored" : "duplicate")));
  }

  /** See FIRST_ANALYZE_AT. Not awaited: an ANALYZE that fails (or waits on another process's) only leaves the statistics as they were. */
  #analyzeWhenGrown(stored: number): void {
    this.#appended += stored;
    if (this.#appended < this.#analyzeAt || this.#analyzeAt > LAST_ANALYZE_AT) return;
    this.#analyzeAt *= 2;
    this.pool.query("ANALYZE events").catch(() => undefined);
  }

  async headSeq(): Promise<number> {
    return guarded(async () => (await this.pool.query<{ s: number }>("SELECT coalesce(max(seq), 0) AS s FROM events")).rows[0]?.s ?? 0);
  }

  async size(): Promise<number> {
    return guarded(async () => {
      const r = (await this.pool.query<{ lo: number | null; hi: number | null }>("SELECT min(seq) AS lo, max(seq) AS hi FROM events")).rows[0];
      return r?.lo == null || r.hi == null ? 0 : r.hi - r.lo + 1;
    });
  }

  /**
   * One round trip: the head and the events after `afterSeq` up to it, in one statement
   * (one snapshot). Every seq at or below a visible head is already visible (appends commit
   * in seq order), so nothing below it can appear later.
   */
  async read(q: ReadEventsQuery): Promise<ReadEventsResult> {
    if (q.types.length === 0) return readResult(q, [], readUpper(q, await this.headSeq()));
    const { rows } = await guarded(() => this.pool.query<StoredEvent & { head: number }>(READ_SQL, [q.afterSeq, q.scanLimit, q.workspace, q.types, q.limit]));
    const head = rows[0]?.head ?? 0;
    const events: StoredEvent[] = rows[0]?.seq == null ? [] : rows.map((r) => ({ seq: r.seq, type: r.type, receivedAt: r.receivedAt, body: r.body }));
    return readResult(q, events, readUpper(q, head));
  }

  /** Bounded: whole buckets are summed from event_counts, only the two end buckets are scanned (see bucket-counts.ts). */
  async count(sel: EventSelection, afterSeq: number, toSeq?: number): Promise<CountResult> {
    const head = await this.headSeq();
    return countByBuckets(this.#bucketQueries, sel, afterSeq, Math.min(toSeq ?? head, head));
  }

  readonly #bucketQueries: BucketQueries = {
    scan: async (sel, afterSeq, uptoSeq) => {
      const { rows } = await guarded(() => this.pool.query<{ count: number; oldest: number | null }>(
        `SELECT count(*)::bigint AS count, min(received_at) AS oldest FROM events
         WHERE seq > $1 AND seq <= $2 AND workspace_id = $3 AND event_type = ANY($4)`, [afterSeq, uptoSeq, sel.workspace, sel.types]));
      return { count: Number(rows[0]?.count ?? 0), oldestReceivedAt: rows[0]?.oldest ?? null };
    },
    sumBuckets: async (sel, from, to) => Number((await guarded(() => this.pool.query<{ n: number }>(
      "SELECT coalesce(sum(n), 0)::bigint AS n FROM event_counts WHERE workspace_id = $1 AND event_type = ANY($2) AND bucket BETWEEN $3 AND $4",
      [sel.workspace, sel.types, from, to]))).rows[0]?.n ?? 0),
    firstBucket: async (sel, from, to) => (await guarded(() => this.pool.query<{ b: number | null }>(
      "SELECT min(bucket) AS b FROM event_counts WHERE workspace_id = $1 AND event_type = ANY($2) AND bucket BETWEEN $3 AND $4 AND n > 0",
      [sel.workspace, sel.types, from, to]))).rows[0]?.b ?? undefined,
  };

  async seqBefore(receivedBefore: number): Promise<number> {
    const head = await this.headSeq();
    return seqBeforeBySearch(head, receivedBefore, async (seq) => (await guarded(() => this.pool.query<{ seq: number; receivedAt: number }>(
      'SELECT seq, received_at AS "receivedAt" FROM events WHERE seq >= $1 ORDER BY seq LIMIT 1', [seq]))).rows[0]);
  }

  async deleteUpTo(uptoSeq: number, maxRows: number): Promise<number> {
    return guarded(async () => {
      const { rows } = await this.pool.query<{ n: number; hi: number | null }>(
        `WITH gone AS (DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE seq <= $1 ORDER BY seq LIMIT $2) RETURNING seq)
         SELECT count(*)::bigint AS n, max(seq) AS hi FROM gone`, [uptoSeq, maxRows]);
      const hi = rows[0]?.hi;
      // Buckets now empty of events lose their counts.
      if (hi != null) await this.pool.query("DELETE FROM event_counts WHERE bucket < $1", [bucketOf(Number(hi) + 1)]);
      return Number(rows[0]?.n ?? 0);
    });
  }

  async seenAt(workspace: string, id: string): Promise<number | undefined> {
    const r = await guarded(() => this.pool.query<{ seen_at: string }>("SELECT seen_at FROM event_ids WHERE workspace_id = $1 AND event_id = $2", [workspace, id]));
    return r.rows[0] ? Number(r.rows[0].seen_at) : undefined;
  }

  async pruneDedupe(seenBefore: number, maxRows: number): Promise<number> {
    return guarded(async () => (await this.pool.query(
      "DELETE FROM event_ids WHERE (workspace_id, event_id) IN (SELECT workspace_id, event_id FROM event_ids WHERE seen_at < $1 LIMIT $2)", [seenBefore, maxRows])).rowCount ?? 0);
  }

  /** Resolves once every append requested so far is committed or failed (before closing). */
  drain(): Promise<void> {
    return this.#groups.drain();
  }
}
