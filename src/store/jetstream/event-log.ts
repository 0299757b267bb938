import { randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import type { JetStreamClient, JetStreamManager, StoredMsg } from "@nats-io/jetstream";
import type pg from "pg";
import { slotOf, userKeyOfText } from "../../catalog/user-key.js";
import { type BucketQueries, type CountResult, bucketOf, countByBuckets } from "../bucket-counts.js";
import { type AppendOutcome, type EventLog, type EventSelection, type NewEvent, type ReadEventsQuery, type ReadEventsResult, type StoredEvent, StoreUnavailableError } from "../port.js";
import { seqBeforeBySearch } from "../seq-before.js";
import { AppendGroups, type PendingAppend } from "../append-groups.js";
import { guarded } from "../postgres/errors.js";
import { type FramedEvent, cutMessages, decodeMessage, encodeMessage, indexOf, lastSeqOf, messageOf, seqOf } from "./frames.js";

export interface JetStreamLogOptions {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly pool: pg.Pool;
  readonly stream: string;
  readonly partitions: number;
  readonly dedupeWindowMs: number;
  /** How long a publish may wait for JetStream's acknowledgement. @defaultValue 5_000 */
  readonly publishTimeoutMs?: number;
}

interface Placed extends FramedEvent {
  readonly workspace: string;
  readonly id: string;
  readonly partition: number;
  /** Index in the group. */
  readonly at: number;
  seq?: number;
}

/**
 * The event log in a JetStream stream. Subjects are `<stream>.ev.<workspace>.<partition>`,
 * the partition the user's key hashed (catalog/user-key.ts), so a user's events are in one
 * partition, in acceptance order. Appends are grouped like PostgreSQL's (every request that
 * arrives while a group is published goes into the next): ids seen within the dedupe window
 * are looked up in PostgreSQL first, the new events are published one message per
 * (workspace, partition) and up to 1,000 events, all at once, and the request is answered
 * only after JetStream acknowledged every message (stored on a quorum of replicas). The
 * ids and the per-bucket counts are written to PostgreSQL after the acknowledgement.
 *
 * Reads go to the stream's leader (`STREAM.MSG.GET` with `next_by_subj`), one message per
 * round trip, so a read never misses what a stale replica has not received yet.
 */
export class JetStreamEventLog implements EventLog {
  readonly #o: JetStreamLogOptions;
  readonly #groups = new AppendGroups((batch) => this.#write(batch));

  constructor(o: JetStreamLogOptions) {
    this.#o = o;
  }

  subject(workspace: string, partition: number | "*"): string {
    return `${this.#o.stream}.ev.${workspace}.${partition}`;
  }

  append(events: readonly NewEvent[], now: number): Promise<AppendOutcome[]> {
    return this.#groups.append(events, now);
  }

  async #write(batch: PendingAppend[]): Promise<AppendOutcome[][]> {
    const now = batch[batch.length - 1]?.now ?? Date.now();
    const flat = batch.flatMap((p) => p.events);
    const seen = await this.#seenIds(flat, now);
    const firsts = new Set<string>();
    const fresh: Placed[] = [];
    const groups = new Map<string, Placed[]>();
    flat.forEach((e, at) => {
      const key = `${e.workspace}\u0000${e.id}`;
      if (seen.has(key) || firsts.has(key)) return;
      firsts.add(key);
      const partition = slotOf(e.userKey ?? userKeyOfText(e.body), this.#o.partitions);
      const placed: Placed = { workspace: e.workspace, id: e.id, type: e.type, body: e.body, at, partition };
      fresh.push(placed);
      const subject = this.subject(e.workspace, partition);
      let g = groups.get(subject);
      if (!g) groups.set(subject, (g = []));
      g.push(placed);
    });
    const nonce = randomUUID();
    let k = 0;
    const publishes: Promise<void>[] = [];
    for (const [subject, events] of groups) {
      for (const part of cutMessages(events)) {
        // A retry of this very publish (same id) within the stream's duplicate window is stored once.
        const { data, headers } = encodeMessage(part, now, `${nonce}:${k++}`);
        publishes.push(this.#o.js.publish(subject, data, { headers, timeout: this.#o.publishTimeoutMs ?? 5_000 }).then((ack) => {
          part.forEach((e, i) => (e.seq = seqOf(ack.seq, i)));
        }));
      }
    }
    const results = await Promise.allSettled(publishes);
    const stored = fresh.filter((e) => e.seq !== undefined);
    // What JetStream acknowledged is stored whatever happens next: its ids and counts are written even when another message failed.
    if (stored.length > 0) await this.#record(stored, now);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw new StoreUnavailableError(`JetStream did not acknowledge the events: ${(failed.reason as Error).message}`);
    for (const ws of new Set(stored.map((e) => e.workspace))) this.#o.nc.publish(`${this.#o.stream}.appended.${ws}`);
    const storedAt = new Set(stored.map((e) => e.at));
    let at = 0;
    return batch.map((p) => p.events.map(() => (storedAt.has(at++) ? "stored" : "duplicate")));
  }

  /** (workspace, id) pairs seen within the dedupe window. */
  async #seenIds(events: readonly NewEvent[], now: number): Promise<Set<string>> {
    if (events.length === 0) return new Set();
    const { rows } = await guarded(() => this.#o.pool.query<{ w: string; i: string }>(
      `SELECT e.workspace_id AS w, e.event_id AS i FROM event_ids e
       JOIN unnest($1::text[], $2::text[]) AS x(w, i) ON e.workspace_id = x.w AND e.event_id = x.i
       WHERE e.seen_at >= $3`,
      [events.map((e) => e.workspace), events.map((e) => e.id), now - this.#o.dedupeWindowMs]));
    return new Set(rows.map((r) => `${r.w}\u0000${r.i}`));
  }

  /**
   * The ids (for the 24 h dedupe) and the per-bucket counts of events JetStream stored, in one
   * statement. Rows go in sorted order, so that processes recording at once take the shared
   * counter rows in one order (unsorted, two processes deadlocked: seen in a contract test); a
   * transient failure (deadlock, serialisation) is tried again. Failing for good, the request
   * answers 503: its events are stored, and the client's retry may store them twice (at least once).
   */
  async #record(stored: readonly Placed[], now: number): Promise<void> {
    const counts = new BucketTally();
    for (const e of stored) counts.add(e.workspace, e.type, e.partition, e.seq as number);
    const cs = counts.rows();
    const ids = [...stored].sort((a, b) => (a.workspace < b.workspace ? -1 : a.workspace > b.workspace ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (let attempt = 1; ; attempt++) {
      try {
        await guarded(() => this.#o.pool.query(
          `WITH ids AS (
             INSERT INTO event_ids AS e (workspace_id, event_id, seen_at) SELECT * FROM unnest($1::text[], $2::text[], array_fill($3::bigint, ARRAY[cardinality($1::text[])]))
             ON CONFLICT (workspace_id, event_id) DO UPDATE SET seen_at = excluded.seen_at
           )
           INSERT INTO stream_counts AS c (workspace_id, event_type, bucket, partition, n) SELECT * FROM unnest($4::text[], $5::text[], $6::bigint[], $7::int[], $8::bigint[])
           ON CONFLICT (workspace_id, event_type, bucket, partition) DO UPDATE SET n = c.n + excluded.n`,
          [ids.map((e) => e.workspace), ids.map((e) => e.id), now, cs.map((c) => c.w), cs.map((c) => c.t), cs.map((c) => c.b), cs.map((c) => c.p), cs.map((c) => c.n)]));
        return;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if ((code === "40P01" || code === "40001") && attempt < 5) continue;
        if (error instanceof StoreUnavailableError) throw error;
        throw new StoreUnavailableError(`the events are stored, but their ids and counts could not be written: ${(error as Error).message}`, { cause: error });
      }
    }
  }

  async #state(): Promise<{ first: number; last: number }> {
    const info = await this.#js(() => this.#o.jsm.streams.info(this.#o.stream));
    return { first: info.state.first_seq, last: info.state.last_seq };
  }

  /** The first message at or after `seq` on a subject (wildcards allowed), from the stream's leader. */
  #next(seq: number, subject: string): Promise<StoredMsg | null> {
    // The server (2.9+) takes `next_by_subj` on STREAM.MSG.GET; the client's type lists it only for direct gets.
    const query = { seq: Math.max(1, seq), next_by_subj: subject } as { seq: number };
    return this.#js(() => this.#o.jsm.streams.getMessage(this.#o.stream, query));
  }

  /** JetStream failures become StoreUnavailableError (ingest answers 503, readers wait and retry). */
  async #js<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError(`JetStream: ${(error as Error).message}`, { cause: error });
    }
  }

  async headSeq(): Promise<number> {
    const { last } = await this.#state();
    return last > 0 ? lastSeqOf(last) : 0;
  }

  async size(): Promise<number> {
    return guarded(async () => Number((await this.#o.pool.query<{ n: number }>("SELECT coalesce(sum(n), 0)::bigint AS n FROM stream_counts")).rows[0]?.n ?? 0));
  }

  async eventsAfter(afterSeq: number): Promise<number> {
    return guarded(async () => Number((await this.#o.pool.query<{ n: number }>(
      "SELECT coalesce(sum(n), 0)::bigint AS n FROM stream_counts WHERE bucket >= $1", [bucketOf(afterSeq + 1)])).rows[0]?.n ?? 0));
  }

  /**
   * Events of a workspace (one partition, or all) after `afterSeq`: looks at whole messages
   * until `limit` matching events or `scanLimit` events looked at; a message cut by `limit`
   * is resumed after its last returned event. With no message left, the read ends at the
   * head as it was before the first look-up (any later message has a higher seq).
   */
  async read(q: ReadEventsQuery): Promise<ReadEventsResult> {
    const head = await this.headSeq();
    if (q.types.length === 0) return { events: [], scannedTo: Math.max(q.afterSeq, head) };
    const subject = this.subject(q.workspace, q.partition ?? "*");
    const types = new Set(q.types);
    const events: StoredEvent[] = [];
    let looked = 0;
    let scannedTo = q.afterSeq;
    let msgSeq = indexOf(q.afterSeq) === 1_023 ? messageOf(q.afterSeq) + 1 : messageOf(q.afterSeq);
    for (;;) {
      if (looked >= q.scanLimit) return { events, scannedTo };
      const m = await this.#next(msgSeq, subject);
      if (!m || lastSeqOf(m.seq) > head) return { events, scannedTo: Math.max(scannedTo, head) };
      const d = decodeMessage(m.data, m.header);
      const bodies = d.types.some((t) => types.has(t)) ? d.bodies() : [];
      for (let i = 0; i < d.types.length; i++) {
        const seq = seqOf(m.seq, i);
        if (seq <= q.afterSeq) continue;
        looked++;
        const type = d.types[i] as string;
        if (types.has(type)) events.push({ seq, type, receivedAt: d.receivedAt, body: bodies[i] as string });
        if (events.length >= q.limit) return { events, scannedTo: seq };
      }
      scannedTo = lastSeqOf(m.seq);
      msgSeq = m.seq + 1;
    }
  }

  /** With `toSeq` given, no look-up of the head (a scan past the last message just finds none). */
  async count(sel: EventSelection, afterSeq: number, toSeq?: number): Promise<CountResult> {
    return countByBuckets(this.#bucketQueries, sel, afterSeq, toSeq ?? (await this.headSeq()));
  }

  readonly #bucketQueries: BucketQueries = {
    scan: async (sel, afterSeq, uptoSeq) => {
      const types = new Set(sel.types);
      let count = 0;
      let oldest: number | null = null;
      for (let msgSeq = messageOf(afterSeq); ;) {
        const m = await this.#next(msgSeq, this.subject(sel.workspace, sel.partition ?? "*"));
        if (!m || seqOf(m.seq, 0) > uptoSeq) break;
        const d = decodeMessage(m.data, m.header);
        d.types.forEach((t, i) => {
          const seq = seqOf(m.seq, i);
          if (seq <= afterSeq || seq > uptoSeq || !types.has(t)) return;
          count++;
          oldest ??= d.receivedAt;
        });
        msgSeq = m.seq + 1;
      }
      return { count, oldestReceivedAt: oldest };
    },
    sumBuckets: async (sel, from, to) => Number((await guarded(() => this.#o.pool.query<{ n: number }>(
      "SELECT coalesce(sum(n), 0)::bigint AS n FROM stream_counts WHERE workspace_id = $1 AND event_type = ANY($2) AND bucket BETWEEN $3 AND $4 AND ($5::int IS NULL OR partition = $5)",
      [sel.workspace, sel.types, from, to, sel.partition ?? null]))).rows[0]?.n ?? 0),
    firstBucket: async (sel, from, to) => (await guarded(() => this.#o.pool.query<{ b: number | null }>(
      "SELECT min(bucket) AS b FROM stream_counts WHERE workspace_id = $1 AND event_type = ANY($2) AND bucket BETWEEN $3 AND $4 AND n > 0 AND ($5::int IS NULL OR partition = $5)",
      [sel.workspace, sel.types, from, to, sel.partition ?? null]))).rows[0]?.b ?? undefined,
  };

  async seqBefore(receivedBefore: number): Promise<number> {
    const head = await this.headSeq();
    const all = `${this.#o.stream}.ev.>`;
    return seqBeforeBySearch(head, receivedBefore, async (seq) => {
      let m = await this.#next(messageOf(seq), all);
      if (m && m.seq === messageOf(seq) && indexOf(seq) >= decodeMessage(m.data, m.header).types.length) m = await this.#next(m.seq + 1, all);
      if (!m) return undefined;
      return { seq: m.seq === messageOf(seq) ? seq : seqOf(m.seq, 0), receivedAt: decodeMessage(m.data, m.header).receivedAt };
    });
  }

  /**
   * Deletes whole messages whose events all have seq <= `uptoSeq`, until at least `maxRows`
   * events went (a message is never cut), and takes their events off the counts. The stream's
   * MaxAge (the retention window and an hour) removes what this sweep would miss.
   */
  async deleteUpTo(uptoSeq: number, maxRows: number): Promise<number> {
    const { first, last } = await this.#state();
    const all = `${this.#o.stream}.ev.>`;
    const gone = new BucketTally();
    let deleted = 0;
    let below = 0;
    for (let msgSeq = first; msgSeq <= last && deleted < maxRows;) {
      const m = await this.#next(msgSeq, all);
      if (!m) break;
      const d = decodeMessage(m.data, m.header);
      if (seqOf(m.seq, d.types.length - 1) > uptoSeq) break;
      const [, , ws, partition] = m.subject.split(".");
      d.types.forEach((t, i) => gone.add(ws as string, t, Number(partition), seqOf(m.seq, i)));
      deleted += d.types.length;
      below = m.seq + 1;
      msgSeq = m.seq + 1;
    }
    if (below === 0) return 0;
    await this.#js(() => this.#o.jsm.streams.purge(this.#o.stream, { seq: below }));
    const cs = gone.rows();
    await guarded(() => this.#o.pool.query(
      `UPDATE stream_counts c SET n = c.n - x.n FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::bigint[]) AS x(w, t, b, p, n)
       WHERE c.workspace_id = x.w AND c.event_type = x.t AND c.bucket = x.b AND c.partition = x.p`,
      [cs.map((c) => c.w), cs.map((c) => c.t), cs.map((c) => c.b), cs.map((c) => c.p), cs.map((c) => c.n)]));
    await guarded(() => this.#o.pool.query("DELETE FROM stream_counts WHERE n <= 0"));
    return deleted;
  }

  async seenAt(workspace: string, id: string): Promise<number | undefined> {
    const r = await guarded(() => this.#o.pool.query<{ seen_at: string }>("SELECT seen_at FROM event_ids WHERE workspace_id = $1 AND event_id = $2", [workspace, id]));
    return r.rows[0] ? Number(r.rows[0].seen_at) : undefined;
  }

  async pruneDedupe(seenBefore: number, maxRows: number): Promise<number> {
    return guarded(async () => (await this.#o.pool.query(
      "DELETE FROM event_ids WHERE (workspace_id, event_id) IN (SELECT workspace_id, event_id FROM event_ids WHERE seen_at < $1 LIMIT $2)", [seenBefore, maxRows])).rowCount ?? 0);
  }

  /** Resolves once every append requested so far is acknowledged or failed (before closing). */
  drain(): Promise<void> {
    return this.#groups.drain();
  }
}

/** Events counted by (workspace, type, bucket, partition), for the stream_counts table. */
class BucketTally {
  readonly #rows = new Map<string, { w: string; t: string; b: number; p: number; n: number }>();

  add(workspace: string, type: string, partition: number, seq: number): void {
    const b = bucketOf(seq);
    const key = `${workspace}\u0000${type}\u0000${b}\u0000${partition}`;
    const row = this.#rows.get(key) ?? { w: workspace, t: type, b, p: partition, n: 0 };
    row.n++;
    this.#rows.set(key, row);
  }

  /** In one order for every process (workspace, type, bucket, partition): shared rows are locked in that order. */
  rows() {
    return [...this.#rows.values()].sort((a, b) => (a.w < b.w ? -1 : a.w > b.w ? 1 : a.t < b.t ? -1 : a.t > b.t ? 1 : a.b - b.b || a.p - b.p));
  }
}
