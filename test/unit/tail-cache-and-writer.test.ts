import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TailCache } from "../../src/store/tail-cache.js";
import { AppendWriter } from "../../src/store/sqlite/append-writer.js";
import { packBodies } from "../../src/store/pack-bodies.js";
import { migrate } from "../../src/store/sqlite/migrations.js";
import { openDatabase } from "../../src/store/sqlite/open-database.js";

const ev = (seq: number, type = "a", workspace = "w") => ({ seq, workspace, type, receivedAt: seq, body: `{"n":${seq}}` });
const q = (afterSeq: number, over: Partial<{ limit: number; scanLimit: number; types: string[]; workspace: string }> = {}) =>
  ({ workspace: "w", types: ["a"], afterSeq, limit: 100, scanLimit: 1000, ...over });

describe("TailCache", () => {
  it("answers reads inside it, filtered by workspace and type, and declines reads it cannot answer whole", () => {
    const c = new TailCache(1e9, 5);
    for (let s = 1; s <= 8; s++) c.push(ev(s, s % 2 ? "a" : "b", s === 7 ? "other" : "w"));
    expect([c.oldest, c.newest]).toEqual([4, 8]); // capped at 5 events
    expect(c.read(q(2), 8)).toBeUndefined(); // event 3 was evicted: the store must answer
    expect(c.read(q(3), 8)).toEqual({ events: [ev(5)], scannedTo: 8 });
    expect(c.read(q(3, { limit: 1, types: ["a", "b"] }), 8)).toEqual({ events: [ev(4, "b")], scannedTo: 4 });
    expect(c.read(q(3, { scanLimit: 1 }), 8)).toEqual({ events: [], scannedTo: 4 });
    expect(c.read(q(3), 9)).toBeUndefined(); // the store has a newer event the cache never saw
  });

  it("starts over at a gap in seqs and stays within its byte budget", () => {
    const c = new TailCache(20, 100);
    c.push(ev(1));
    c.push(ev(2));
    c.push(ev(10));
    expect([c.oldest, c.newest]).toEqual([10, 10]);
    for (let s = 11; s <= 20; s++) c.push(ev(s));
    expect(c.oldest).toBe(19); // two bodies of 8 characters fit in 20
  });
});

describe("AppendWriter", () => {
  const dirs: string[] = [];
  afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

  it("stores new ids, skips ids seen within the window, and stores an id again once its window passed", () => {
    const dir = mkdtempSync(join(tmpdir(), "writer-"));
    dirs.push(dir);
    const db = openDatabase(join(dir, "t.db"));
    migrate(db);
    const w = new AppendWriter(db, 1000);
    const req = (id: number, now: number, ids: string[]) => ({ id, now, workspaces: ids.map(() => "w"), ids, types: ids.map(() => "t"), ...packBodies(ids.map((x) => `{"id":"${x}","é":"€😀"}`)) });
    expect(w.write([req(1, 0, ["a", "b"]), req(2, 10, ["b", "c"])])).toEqual([{ id: 1, seqs: [1, 2] }, { id: 2, seqs: [0, 3] }]);
    expect(w.write([req(3, 999, ["a"])])).toEqual([{ id: 3, seqs: [0] }]);
    expect(w.write([req(4, 1001, ["a", "a"])])).toEqual([{ id: 4, seqs: [4, 0] }]);
    // Stored as the bytes sent (BLOB); rows of earlier versions are TEXT: CAST reads both the same.
    db.prepare("INSERT INTO events (workspace_id, event_type, received_at, body) VALUES ('w', 't', 0, ?)").run('{"id":"old","é":"€😀"}');
    expect(db.prepare("SELECT typeof(body) FROM events ORDER BY seq").pluck().all()).toEqual(["blob", "blob", "blob", "blob", "text"]);
    expect(db.prepare("SELECT CAST(body AS TEXT) FROM events ORDER BY seq").pluck().all()).toEqual(["a", "b", "c", "a", "old"].map((x) => `{"id":"${x}","é":"€😀"}`));
    db.close();
  });
});
