import type Database from "better-sqlite3";

/**
 * One append request as it crosses to the writer: events as parallel arrays, the bodies as
 * one string joined by NUL (a JSON text never holds a raw NUL), which is much cheaper to
 * copy between threads than one string per event.
 */
export interface AppendRequest {
  readonly id: number;
  readonly now: number;
  readonly workspaces: readonly string[];
  readonly ids: readonly string[];
  readonly types: readonly string[];
  readonly bodies: string;
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

  constructor(private readonly db: Database.Database, private readonly dedupeWindowMs: number) {
    this.#markSeen = db.prepare("INSERT OR IGNORE INTO event_ids (key, seen_at) VALUES (?, ?)");
    this.#refreshSeen = db.prepare("UPDATE event_ids SET seen_at = ? WHERE key = ? AND seen_at < ?");
    this.#insert = db.prepare("INSERT INTO events (workspace_id, event_type, received_at, body) VALUES (?, ?, ?, ?)");
  }

  write(requests: readonly AppendRequest[]): AppendReply[] {
    return this.db.transaction(() => requests.map((r) => this.#one(r)))();
  }

  #one(r: AppendRequest): AppendReply {
    const cutoff = r.now - this.dedupeWindowMs;
    const seqs = new Array<number>(r.ids.length);
    const bodies = r.bodies.split("\u0000");
    for (let i = 0; i < r.ids.length; i++) {
      const key = `${r.workspaces[i]}\u0000${r.ids[i]}`;
      // The common case (a new id) costs one insert; only a repeated id is looked at again,
      // and it counts as new when its last sighting is older than the window.
      const fresh = this.#markSeen.run(key, r.now).changes > 0 || this.#refreshSeen.run(r.now, key, cutoff).changes > 0;
      seqs[i] = fresh ? Number(this.#insert.run(r.workspaces[i], r.types[i], r.now, bodies[i]).lastInsertRowid) : 0;
    }
    return { id: r.id, seqs };
  }
}
