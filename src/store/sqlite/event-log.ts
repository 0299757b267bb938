import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type Database from "better-sqlite3";
import type { AppendOutcome, EventLog, EventSelection, NewEvent, ReadEventsQuery, ReadEventsResult, StoredEvent } from "../port.js";
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

type WriterMessage = { kind: "written"; replies: AppendReply[] } | { kind: "failed"; ids: number[]; message: string };

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
 */
export class SqliteEventLog implements EventLog {
  readonly #pending = new Map<number, PendingAppend>();
  #nextId = 1;
  #head: number;
  #failure: Error | undefined;
  readonly #writer: Worker;
  readonly #exited: Promise<void>;
  readonly #tail = new TailCache(TAIL_BYTES, TAIL_EVENTS);
  #tailWantedUntil = 0;
  #readStatements = new Map<number, Database.Statement>();
  #countStatements = new Map<number, Database.Statement>();

  constructor(private readonly db: Database.Database, file: string, dedupeWindowMs: number) {
    this.#head = (db.prepare("SELECT coalesce(max(seq), 0) AS s FROM events").get() as { s: number }).s;
    this.#writer = new Worker(writerScript(), { workerData: { file, dedupeWindowMs } });
    this.#writer.unref();
    this.#writer.on("message", (msg: WriterMessage) => this.#onWriter(msg));
    this.#writer.on("error", (error) => this.#fail(new Error(`the store's writer failed: ${error.message}`, { cause: error })));
    this.#exited = new Promise((resolve) => this.#writer.once("exit", () => {
      this.#fail(new Error("the store's writer has stopped"));
      resolve();
    }));
  }

  append(events: readonly NewEvent[], now: number): Promise<AppendOutcome[]> {
    if (this.#failure) return Promise.reject(this.#failure);
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
      for (const id of msg.ids) {
        this.#pending.get(id)?.reject(new Error(`could not store events: ${msg.message}`));
        this.#pending.delete(id);
      }
      return;
    }
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

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }

  /** Waits for every append requested so far, then stops the writer (used when closing). */
  async drain(): Promise<void> {
    while (this.#pending.size > 0 && !this.#failure) await new Promise((r) => setTimeout(r, 1));
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

  async count(sel: EventSelection, afterSeq: number, toSeq?: number): Promise<{ count: number; oldestReceivedAt: number | null }> {
    if (sel.types.length === 0) return { count: 0, oldestReceivedAt: null };
    const st = this.#statement(this.#countStatements, sel.types.length, (inList) =>
      `SELECT count(*) AS count, min(received_at) AS oldestReceivedAt FROM events
       WHERE seq > ? AND seq <= ? AND workspace_id = ? AND event_type IN (${inList})`);
    return st.get(afterSeq, toSeq ?? this.#head, sel.workspace, ...sel.types) as { count: number; oldestReceivedAt: number | null };
  }

  async seqBefore(receivedBefore: number): Promise<number> {
    return seqBeforeBySearch(this.#head, receivedBefore, (seq) => this.db.prepare("SELECT seq, received_at AS receivedAt FROM events WHERE seq >= ? ORDER BY seq LIMIT 1").get(seq) as { seq: number; receivedAt: number } | undefined);
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
