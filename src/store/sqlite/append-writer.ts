import type Database from "better-sqlite3";
import { bucketOf } from "../bucket-counts.js";

/**
 * One append request as it crosses to the writer: events as parallel arrays, the bodies
 * UTF-8 encoded one after the other in one buffer that is moved to the writer, not copied
 * (`bodyEnds[i]` is where body i ends). No large string is built on the event loop's heap.
 */
export interface AppendRequest {
  readonly id: number;
  readonly now: number;
  readonly workspaces: readonly string[];
  readonly ids: readonly string[];
  readonly types: readonly string[];
  readonly bodies: ArrayBuffer;
  readonly bodyEnds: Uint32Array;
}

/** The seq given to each event of a request, 0 for a duplicate. */
export interface AppendReply {
  readonly id: number;
  readonly seqs: number[];
}

/**
 * Writes append requests into `events`, skipping ids seen within the dedupe window, all
 * requests of one call in one transaction (group commit: one fsync for all of them).
 */
export class AppendWriter {
  readonly #markSeen: Database.Statement;
  readonly #refreshSeen: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #count: Database.Statement;
  /** (workspace, type, bucket) -> events stored by the transaction under way. */
  readonly #counts = new Map<string, { ws: string; type: string; bucket: number; n: number }>();

  constructor(private readonly db: Database.Database, private readonly dedupeWindowMs: number) {
    this.#markSeen = db.prepare("INSERT OR IGNORE INTO event_ids (key, seen_at) VALUES (?, ?)");
    this.#refreshSeen = db.prepare("UPDATE event_ids SET seen_at = ? WHERE key = ? AND seen_at < ?");
    this.#insert = db.prepare("INSERT INTO events (workspace_id, event_type, received_at, body) VALUES (?, ?, ?, ?)");
    this.#count = db.prepare("INSERT INTO event_counts (workspace_id, event_type, bucket, n) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET n = n + excluded.n");
  }

  write(requests: readonly AppendRequest[]): AppendReply[] {
    this.#counts.clear();
    return this.db.transaction(() => {
      const replies = requests.map((r) => this.#one(r));
      for (const c of this.#counts.values()) this.#count.run(c.ws, c.type, c.bucket, c.n);
      return replies;
    })();
  }

  #counted(ws: string, type: string, seq: number): void {
    const bucket = bucketOf(seq);
    const key = `${ws}\u0000${type}\u0000${bucket}`;
    const c = this.#counts.get(key);
    if (c) c.n++;
    else this.#counts.set(key, { ws, type, bucket, n: 1 });
  }

  #one(r: AppendRequest): AppendReply {
    const cutoff = r.now - this.dedupeWindowMs;
    const seqs = new Array<number>(r.ids.length);
    const bytes = Buffer.from(r.bodies);
    let start = 0;
    for (let i = 0; i < r.ids.length; i++) {
      const key = `${r.workspaces[i]}\u0000${r.ids[i]}`;
      // The common case (a new id) costs one insert; only a repeated id is looked at again,
      // and it counts as new when its last sighting is older than the window.
      const fresh = this.#markSeen.run(key, r.now).changes > 0 || this.#refreshSeen.run(r.now, key, cutoff).changes > 0;
      const end = r.bodyEnds[i] as number;
      // The body goes in as the bytes the client sent (a BLOB, read back as text by CAST):
      // no decoding to a string here, and SQLite copies bytes rather than converting text.
      seqs[i] = fresh ? Number(this.#insert.run(r.workspaces[i], r.types[i], r.now, bytes.subarray(start, end)).lastInsertRowid) : 0;
      if (fresh) this.#counted(r.workspaces[i] as string, r.types[i] as string, seqs[i] as number);
      start = end;
    }
    return { id: r.id, seqs };
  }
}
