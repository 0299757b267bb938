import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";
import { type AppendOutcome, type EventLog, type EventSelection, type NewEvent, type ReadEventsQuery, type ReadEventsResult, type StoredEvent, StoreFullError, StoreUnavailableError } from "../port.js";
import { type BucketQueries, type CountResult, bucketOf, countByBuckets } from "../bucket-counts.js";
import { seqBeforeBySearch } from "../seq-before.js";
import { TailCache } from "../tail-cache.js";
import { type AppendReply, type AppendRequest, packBodies } from "./append-writer.js";

interface PendingAppend {
  readonly events: readonly NewEvent[];
  /** The bodies as compact strings of their own, for the tail cache. */
  readonly texts: readonly string[];
  readonly now: number;
  resolve(outcomes: AppendOutcome[]): void;
  reject(error: unknown): void;
}

type WriterMessage = { kind: "written"; replies: AppendReply[] } | { kind: "failed"; ids: number[]; message: string; code?: string };

/** Waits before a dead writer thread is started again (doubling up to 5 s while it keeps dying). */
const RESPAWN_MS = 200;

/** The compiled writer thread (next to this file; from src/ under the test runner, in dist/). */
function writerScript(): URL {
  const sibling = new URL("./writer-thread.js", import.meta.url);
  return existsSync(fileURLToPath(sibling)) ? sibling : new URL("../../../dist/store/sqlite/writer-thread.js", import.meta.url);
}

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
 * The event log on SQLite. Appends go to a writer thread (writer-thread.ts) that commits
 * every request waiting for it in one transaction, fsync'd (synchronous=FULL in WAL mode)
 * before any of their promises resolves. Reads use this thread's own connection, or the
 * tail cache of the newest events.
 *
 * Writer failures: a commit that fails rejects only its requests (nothing of theirs was
 * acknowledged); a full disk rejects with StoreFullError (507) and makes `healthy()` false
 * until a commit succeeds again. A writer thread that dies rejects what it held with
 * StoreUnavailableError (503) and is started again: what it had committed is on disk, what
 * it had not was never acknowledged.
 */
export class SqliteEventLog implements EventLog {
  readonly #pending = new Map<number, PendingAppend>();
  #nextId = 1;
  #head: number;
  #writer!: Worker;
  #exited!: Promise<void>;
  #writerUp = false;
  #closing = false;
  #respawnMs = RESPAWN_MS;
  #full: string | undefined;
  readonly #file: string;
  readonly #dedupeWindowMs: number;
  readonly #tail = new TailCache(TAIL_BYTES, TAIL_EVENTS);
  #tailWantedUntil = 0;
  #readStatements = new Map<number, Database.Statement>();
  #countStatements = new Map<number, Database.Statement>();
  #sumStatements = new Map<number, Database.Statement>();
  #firstBucketStatements = new Map<number, Database.Statement>();

  constructor(private readonly db: Database.Database, file: string, dedupeWindowMs: number) {
    this.#head = (db.prepare("SELECT coalesce(max(seq), 0) AS s FROM events").get() as { s: number }).s;
    this.#file = file;
    this.#dedupeWindowMs = dedupeWindowMs;
    this.#spawnWriter();
  }

  #spawnWriter(): void {
    const writer = new Worker(writerScript(), { workerData: { file: this.#file, dedupeWindowMs: this.#dedupeWindowMs } });
    this.#writer = writer;
    this.#writerUp = true;
    writer.unref();
    writer.on("message", (msg: WriterMessage) => this.#onWriter(msg));
    writer.on("online", () => { this.#respawnMs = RESPAWN_MS; });
    writer.on("error", (error) => this.#writerDied(writer, `the store's writer failed: ${error.message}`));
    this.#exited = new Promise((resolve) => writer.once("exit", () => {
      this.#writerDied(writer, "the store's writer has stopped");
      resolve();
    }));
  }

  #writerDied(writer: Worker, why: string): void {
    if (writer !== this.#writer || !this.#writerUp) return;
    this.#writerUp = false;
    const error = new StoreUnavailableError(`${why}; nothing of this request was acknowledged`);
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    if (this.#closing) return;
    const delay = this.#respawnMs;
    this.#respawnMs = Math.min(this.#respawnMs * 2, 5_000);
    setTimeout(() => { if (!this.#closing) this.#spawnWriter(); }, delay).unref();
  }

  /** False while the writer is down or the disk is full (for /readyz); the reason otherwise. */
  healthy(): { ok: true } | { ok: false; reason: string } {
    if (!this.#writerUp) return { ok: false, reason: "the store's writer is restarting" };
    if (this.#full) return { ok: false, reason: `the disk is full: ${this.#full}` };
    return { ok: true };
  }

  /** Stops the writer thread as a crash would (diagnostics and tests); it is started again. */
  async terminateWriter(): Promise<void> {
    await this.#writer.terminate();
  }

  append(events: readonly NewEvent[], now: number): Promise<AppendOutcome[]> {
    if (!this.#writerUp) return Promise.reject(new StoreUnavailableError("the store's writer is restarting; nothing of this request was acknowledged"));
    return new Promise((resolve, reject) => {
      const id = this.#nextId++;
      const packed = packBodies(events.map((e) => e.body));
      // Decoded copies, not the bodies themselves: a body sliced from a request's text would
      // keep that whole text alive for as long as the cache holds the event.
      const texts = this.#tailWanted(Date.now()) ? decodeBodies(packed.bodies, packed.bodyEnds) : [];
      this.#pending.set(id, { events, texts, now, resolve, reject });
      const request: AppendRequest = {
        id, now,
        workspaces: events.map((e) => e.workspace),
        ids: events.map((e) => e.id),
        types: events.map((e) => e.type),
        ...packed,
      };
      this.#writer.postMessage({ kind: "append", request }, [request.bodies]);
    });
  }

  #onWriter(msg: WriterMessage): void {
    if (msg.kind === "failed") {
      const full = msg.code?.startsWith("SQLITE_FULL") === true;
      if (full) this.#full = msg.message;
      const error = full ? new StoreFullError(`could not store events: ${msg.message}`)
        : /^SQLITE_(BUSY|IOERR|CANTOPEN|READONLY)/.test(msg.code ?? "") ? new StoreUnavailableError(`could not store events: ${msg.message}`)
          : new Error(`could not store events: ${msg.message}`);
      for (const id of msg.ids) {
        this.#pending.get(id)?.reject(error);
        this.#pending.delete(id);
      }
      return;
    }
    this.#full = undefined;
    for (const reply of msg.replies) {
      const p = this.#pending.get(reply.id);
      if (!p) continue;
      this.#pending.delete(reply.id);
      if (p.texts.length === 0 && this.#tail.newest !== 0) this.#tail.clear();
      const outcomes = reply.seqs.map((seq, i): AppendOutcome => {
        if (seq === 0) return "duplicate";
        const e = p.events[i] as NewEvent;
        if (p.texts.length > 0) this.#tail.push({ seq, workspace: e.workspace, type: e.type, receivedAt: p.now, body: p.texts[i] as string });
        if (seq > this.#head) this.#head = seq;
        return "stored";
      });
      p.resolve(outcomes);
    }
  }

  /** Waits for every append requested so far, then stops the writer (used when closing). */
  async drain(): Promise<void> {
    this.#closing = true;
    while (this.#pending.size > 0 && this.#writerUp) await new Promise((r) => setTimeout(r, 1));
    if (!this.#writerUp) return;
    this.#writer.ref(); // keep the process up until the writer has closed the file
    this.#writer.postMessage({ kind: "close" });
    await this.#exited;
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
    const upper = Math.min(q.afterSeq + q.scanLimit, this.#head);
    if (q.types.length === 0 || upper <= q.afterSeq) return { events: [], scannedTo: Math.max(q.afterSeq, upper) };
    const st = this.#statement(this.#readStatements, q.types.length, (inList) =>
      `SELECT seq, event_type AS type, received_at AS receivedAt, body FROM events
       WHERE seq > ? AND seq <= ? AND workspace_id = ? AND event_type IN (${inList}) ORDER BY seq LIMIT ?`);
    const events = st.all(q.afterSeq, upper, q.workspace, ...q.types, q.limit) as StoredEvent[];
    const scannedTo = events.length >= q.limit ? (events[events.length - 1] as StoredEvent).seq : upper;
    return { events, scannedTo };
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

  async pruneDedupe(seenBefore: number, maxRows: number): Promise<number> {
    return this.db
      .prepare("DELETE FROM event_ids WHERE key IN (SELECT key FROM event_ids WHERE seen_at < ? LIMIT ?)")
      .run(seenBefore, maxRows).changes;
  }
}
