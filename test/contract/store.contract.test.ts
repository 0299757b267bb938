import { rmSync } from "node:fs";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { CurrentRecord } from "../../src/currents/model.js";
import type { Store } from "../../src/store/port.js";
import { openJetStreamStore } from "../../src/store/jetstream/index.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { tempDir } from "../support/harness.js";
import { NATS_URL, deleteStreams, freshStreamName } from "../support/nats.js";
import { createDatabase, dropDatabase } from "../support/postgres.js";

/**
 * The storage port's contract, written once and run against every adapter. Every case opens
 * a store of its own (a fresh data dir, a fresh database), so no case depends on another's
 * order or leftovers. Skipped: nothing. Seqs are compared by order, never by value: they grow in
 * acceptance order and are never reused, but only the embedded and PostgreSQL logs number them
 * densely (JetStream's are message seq x 1024 + the index in the message). (Behaviour only one adapter has: SQLite's writer
 * thread and tail cache are covered in test/unit and test/e2e/store-failures; PostgreSQL's
 * many processes in test/e2e/server-mode.test.ts.)
 */
const HOUR = 3_600_000;
interface Adapter {
  name: string;
  /** A fresh, empty store; `second` opens another handle on the same one (another process's view, where the adapter allows it). */
  fresh(): Promise<{ store: Store; second?: () => Promise<Store>; newerSchema: () => Promise<() => Promise<unknown>> }>;
  cleanup(): Promise<void>;
}

function sqliteAdapter(): Adapter {
  const dirs: string[] = [];
  return {
    name: "sqlite",
    async fresh() {
      const dir = tempDir("contract-");
      dirs.push(dir);
      const store = openSqliteStore({ dataDir: dir, dedupeWindowMs: HOUR });
      return {
        store,
        newerSchema: async () => {
          const other = tempDir("contract-newer-");
          dirs.push(other);
          await openSqliteStore({ dataDir: other, dedupeWindowMs: HOUR }).close();
          const Database = (await import("better-sqlite3")).default;
          const db = new Database(`${other}/currents.db`);
          db.prepare("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)").run();
          db.close();
          return async () => openSqliteStore({ dataDir: other, dedupeWindowMs: HOUR });
        },
      };
    },
    cleanup: async () => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); },
  };
}

function postgresAdapter(): Adapter {
  const dbs: string[] = [];
  const open = (url: string) => openPostgresStore({ url, dedupeWindowMs: HOUR, poolMax: 4 });
  return {
    name: "postgres",
    async fresh() {
      const db = await createDatabase();
      dbs.push(db.name);
      return {
        store: await open(db.url),
        second: () => open(db.url),
        newerSchema: async () => {
          const other = await createDatabase();
          dbs.push(other.name);
          await (await open(other.url)).close();
          const c = new pg.Client({ connectionString: other.url });
          await c.connect();
          await c.query("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)");
          await c.end();
          return () => open(other.url);
        },
      };
    },
    cleanup: async () => { for (const d of dbs) await dropDatabase(d); },
  };
}

function jetstreamAdapter(): Adapter {
  const dbs: string[] = [];
  const streams: string[] = [];
  const open = (url: string, stream: string) => openJetStreamStore({
    url, dedupeWindowMs: HOUR, poolMax: 4, servers: NATS_URL, stream, partitions: 4, replicas: 1, retentionMs: 7 * 24 * HOUR,
  });
  return {
    name: "jetstream",
    async fresh() {
      const db = await createDatabase();
      const stream = freshStreamName();
      dbs.push(db.name);
      streams.push(stream);
      return {
        store: await open(db.url, stream),
        second: () => open(db.url, stream),
        newerSchema: async () => {
          const other = await createDatabase();
          dbs.push(other.name);
          const c = new pg.Client({ connectionString: other.url });
          await (await openPostgresStore({ url: other.url, dedupeWindowMs: HOUR })).close();
          await c.connect();
          await c.query("INSERT INTO schema_migrations VALUES (999, 'from the future', 0)");
          await c.end();
          return () => open(other.url, stream);
        },
      };
    },
    cleanup: async () => {
      for (const d of dbs) await dropDatabase(d);
      await deleteStreams(streams);
    },
  };
}

const current = (id: string, events = ["t.a"], over: Partial<CurrentRecord> = {}): CurrentRecord => ({
  id, workspace: "w1", name: `Current ${id}`, partner: "heap", contactEmail: null, settings: { endpoint: "https://example.com/h" },
  secretsEnc: "sealed", secretHints: { bearerToken: "abcd" }, events, transformations: [], batching: {}, status: "draft",
  statusReason: null, statusSince: 1, createdAt: 1, updatedAt: 1, launchedAt: null, version: 1, ...over,
});
const zero = { ackedSeq: 0, delivered: 0, failedAttempts: 0, deadLettered: 0, expired: 0, valuesCut: 0, lastDeliveredAt: null, lastError: null, lastErrorAt: null };
const ev = (id: string, type = "t.a", workspace = "w1", body = `{"id":"${id}","type":"${type}","n":[1, 2]}`) => ({ workspace, id, type, body });

describe.each([{ make: sqliteAdapter }, { make: postgresAdapter }, { make: jetstreamAdapter }])("storage contract", ({ make }) => {
  const adapter = make();
  const open: Store[] = [];
  /** A fresh store with workspaces w1 and w2 (and, on request, three events: 1 t.a, 2 t.b in w1; 3 t.a in w2). */
  const fresh = async (withEvents = false) => {
    const f = await adapter.fresh();
    open.push(f.store);
    await f.store.config.ensureWorkspace("w1", 1);
    await f.store.config.ensureWorkspace("w2", 1);
    if (withEvents) await f.store.events.append([ev("1"), ev("2", "t.b"), ev("3", "t.a", "w2")], 1_000_000);
    return { ...f, store: f.store, second: f.second && (async () => { const s = await f.second!(); open.push(s); return s; }) };
  };
  afterEach(async () => { for (const s of open.splice(0)) await s.close(); });
  /** Every stored event of both workspaces, in seq order. */
  const everything = async (store: Store) => {
    const out: Array<{ seq: number; type: string; workspace: string; id: string | undefined }> = [];
    for (const workspace of ["w1", "w2"]) {
      for (let after = 0; ;) {
        const r = await store.events.read({ workspace, types: ["t.a", "t.b"], afterSeq: after, limit: 5_000, scanLimit: 50_000 });
        for (const e of r.events) out.push({ seq: e.seq, type: e.type, workspace, id: (JSON.parse(e.body) as { id?: string }).id });
        if (r.scannedTo === after) break;
        after = r.scannedTo;
      }
    }
    return out.sort((a, b) => a.seq - b.seq);
  };
  const seqOfId = async (store: Store) => {
    const all = await everything(store);
    return (id: string) => all.find((e) => e.id === id)?.seq ?? NaN;
  };
  afterAll(() => adapter.cleanup());

  describe(adapter.name, () => {
    it("appends durably in order, keeps bodies byte for byte, and skips ids seen within the window", async () => {
      const { store } = await fresh();
      const now = 1_000_000;
      const [a, b] = await Promise.all([store.events.append([ev("1"), ev("2", "t.b"), ev("1")], now), store.events.append([ev("2", "t.b"), ev("3", "t.a", "w2")], now)]);
      expect(a).toEqual(["stored", "stored", "duplicate"]);
      expect(b).toEqual(["duplicate", "stored"]);
      const seq = await seqOfId(store);
      const head = await store.events.headSeq();
      expect(head).toBeGreaterThanOrEqual(Math.max(seq("1"), seq("2"), seq("3")));
      expect(await store.events.size()).toBe(3);
      const all = await store.events.read({ workspace: "w1", types: ["t.a", "t.b"], afterSeq: 0, limit: 10, scanLimit: 100 });
      expect(all.events.map((e) => [e.seq, e.type, e.receivedAt, e.body])).toEqual([[seq("1"), "t.a", now, ev("1").body], [seq("2"), "t.b", now, ev("2", "t.b").body]]);
      expect(seq("1")).toBeLessThan(seq("2"));
      expect(all.scannedTo).toBeGreaterThanOrEqual(seq("2"));
      expect((await store.events.read({ workspace: "w1", types: ["t.a", "t.b"], afterSeq: head, limit: 10, scanLimit: 100 })).events).toEqual([]);
      // Past the window, an id counts as new again.
      expect(await store.events.append([ev("1")], now + HOUR + 1)).toEqual(["stored"]);
      expect(await store.events.headSeq()).toBeGreaterThan(head);
    });

    it("reads by selection with a limit and a scan limit, counts, and finds a seq by time", async () => {
      const { store } = await fresh(true);
      await store.events.append([ev("4")], 2_000_000);
      const seq = await seqOfId(store);
      const r1 = await store.events.read({ workspace: "w1", types: ["t.a"], afterSeq: 0, limit: 1, scanLimit: 100 });
      expect(r1).toEqual({ events: [expect.objectContaining({ seq: seq("1") })], scannedTo: seq("1") });
      // A small scan limit still moves on, and returns only what the selection holds.
      const r2 = await store.events.read({ workspace: "w1", types: ["t.a"], afterSeq: seq("1"), limit: 10, scanLimit: 2 });
      expect(r2.scannedTo).toBeGreaterThanOrEqual(seq("2"));
      expect(r2.events.map((e) => e.seq).every((s) => s === seq("4"))).toBe(true);
      expect(await store.events.read({ workspace: "w1", types: [], afterSeq: 0, limit: 10, scanLimit: 100 })).toEqual({ events: [], scannedTo: await store.events.headSeq() });
      expect(await store.events.count({ workspace: "w1", types: ["t.a", "t.b"] }, 0)).toEqual({ count: 3, oldestReceivedAt: 1_000_000 });
      expect((await store.events.count({ workspace: "w1", types: ["t.a"] }, 0, seq("3"))).count).toBe(1);
      expect(await store.events.count({ workspace: "w1", types: [] }, 0)).toEqual({ count: 0, oldestReceivedAt: null });
      expect(await store.events.seqBefore(1_000_001)).toBe(seq("3"));
      expect(await store.events.seqBefore(2_000_001)).toBe(seq("4"));
      expect(await store.events.seqBefore(0)).toBeLessThan(seq("1"));
    });

    it("counts across many buckets exactly as a scan would, also after retention (bounded counting)", async () => {
      const { store } = await fresh();
      const n = 40_000; // more than two buckets of 16,384
      for (let i = 0; i < n; i += 1_000) {
        await store.events.append(Array.from({ length: 1_000 }, (_, k) => ev(`b${i + k}`, (i + k) % 3 === 0 ? "t.b" : "t.a", (i + k) % 7 === 0 ? "w2" : "w1", "{}")), 10 + Math.floor((i + 1_000) / 10_000));
      }
      // The brute-force answer, from every stored event read back (their k-th seq is `at(k)`).
      const all = await everything(store);
      expect(all.length).toBe(n);
      const at = (k: number) => (all[k - 1] as { seq: number }).seq;
      const head = await store.events.headSeq();
      const expected = (after: number, to = head, types = ["t.a"]) =>
        all.filter((e) => e.seq > after && e.seq <= to && e.workspace === "w1" && types.includes(e.type)).length;
      for (const k of [0, 1, 16_383, 16_384, 16_385, 20_000, 32_767, 39_999]) {
        const after = k === 0 ? 0 : at(k);
        expect((await store.events.count({ workspace: "w1", types: ["t.a"] }, after)).count, `after the ${k}th`).toBe(expected(after));
      }
      expect((await store.events.count({ workspace: "w1", types: ["t.a", "t.b"] }, at(100), at(33_000))).count).toBe(expected(at(100), at(33_000), ["t.a", "t.b"]));
      expect((await store.events.count({ workspace: "w1", types: ["t.b"] }, at(16_000))).oldestReceivedAt).toBe(11);
      let gone = 0;
      for (let k = 0; k < 4; k++) gone += await store.events.deleteUpTo(at(33_000), 10_000);
      // Every event up to the seq goes, but JetStream deletes whole messages: the events that share one with a later event stay.
      expect(gone).toBeLessThanOrEqual(33_000);
      expect(gone).toBeGreaterThan(33_000 - 1_000);
      expect(await store.events.size()).toBe(n - gone);
      expect((await store.events.count({ workspace: "w1", types: ["t.a"] }, at(33_000))).count).toBe(expected(at(33_000)));
    });

    it("two appenders and a reader at once: the reader's cursor sees every event exactly once", async () => {
      const { store, second } = await fresh();
      const other = second ? await second() : store; // another process where the adapter has several
      const seen: string[] = [];
      let done = false;
      const reader = (async () => {
        let after = 0;
        for (;;) {
          const finished = done;
          const r = await store.events.read({ workspace: "w1", types: ["t.a"], afterSeq: after, limit: 500, scanLimit: 5_000 });
          for (const e of r.events) seen.push(JSON.parse(e.body).id as string);
          after = r.scannedTo;
          if (finished && r.events.length === 0 && after >= (await store.events.headSeq())) return;
          await new Promise((res) => setImmediate(res));
        }
      })();
      const appender = async (s: Store, tag: string) => {
        for (let i = 0; i < 40; i++) await s.events.append(Array.from({ length: 25 }, (_, k) => ev(`${tag}-${i}-${k}`)), 5);
      };
      await Promise.all([appender(store, "a"), appender(other, "b"), appender(store, "c")]);
      done = true;
      await reader;
      expect(seen.length).toBe(3_000);
      expect(new Set(seen).size).toBe(3_000);
    });

    it("appenders in several processes at once, each request spread over many users, never fail one another", async () => {
      const { store, second } = await fresh();
      const others = second ? [await second(), await second()] : [store, store];
      const body = (id: string, k: number) => `{"id":"${id}","type":"t.a","user":{"user_id":"u${k}"}}`;
      const appender = (s: Store, tag: string) => (async () => {
        for (let i = 0; i < 30; i++) {
          // The same users in a different order in each process: rows of shared counters are taken in different orders.
          const ks = Array.from({ length: 200 }, (_, k) => (tag === "b" ? 199 - k : k));
          await s.events.append(ks.map((k) => ({ ...ev(`${tag}-${i}-${k}`, "t.a", "w1", body(`${tag}-${i}-${k}`, k)), userKey: `u${k}` })), 5);
        }
      })();
      const results = await Promise.allSettled([appender(store, "a"), appender(others[0] as Store, "b"), appender(others[1] as Store, "c")]);
      expect(results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      expect((await store.events.count({ workspace: "w1", types: ["t.a"] }, 0)).count).toBe(18_000);
    });

    it("retention deleting while a reader goes through the log: reads go on, from the oldest kept", async () => {
      const { store } = await fresh();
      for (let i = 0; i < 10; i++) await store.events.append(Array.from({ length: 500 }, (_, k) => ev(`r${i}-${k}`)), 5);
      const upto = (await everything(store))[2_499]?.seq ?? NaN;
      const deleting = (async () => { let n = 0; for (let k = 0; k < 10; k++) n += await store.events.deleteUpTo(upto, 250); return n; })();
      let after = 0;
      let got = 0;
      for (;;) {
        const r = await store.events.read({ workspace: "w1", types: ["t.a"], afterSeq: after, limit: 100, scanLimit: 1_000 });
        got += r.events.length;
        if (r.scannedTo === after) break;
        after = r.scannedTo;
      }
      expect(await deleting).toBe(2_500);
      expect(got).toBeGreaterThanOrEqual(2_500);
      expect(after).toBe(await store.events.headSeq());
    });

    it("deletes up to a seq in chunks and prunes old ids; seqs are never reused", async () => {
      const { store } = await fresh(true);
      const s3 = (await seqOfId(store))("3");
      await store.events.append([ev("1")], 1_000_000 + HOUR + 1); // seen again later
      expect(await store.events.deleteUpTo(s3, 2)).toBe(2);
      expect(await store.events.deleteUpTo(s3, 2)).toBe(1);
      expect(await store.events.deleteUpTo(s3, 2)).toBe(0);
      expect(await store.events.pruneDedupe(1_000_001, 10)).toBe(2); // "2" and "3"; "1" was seen again later
      const last = await store.events.headSeq();
      expect(await store.events.deleteUpTo(last, 10)).toBe(1);
      expect(await store.events.size()).toBe(0);
      expect(await store.events.append([ev("5")], 2 * HOUR)).toEqual(["stored"]);
      expect((await seqOfId(store))("5")).toBeGreaterThan(last);
    });

    it("keeps settings, workspaces (strict or not) and ingest keys", async () => {
      const { store } = await fresh();
      expect(await store.config.getSetting("k")).toBeUndefined();
      await store.config.setSetting("k", "v1");
      await store.config.setSetting("k", "v2");
      expect(await store.config.getSetting("k")).toBe("v2");
      expect(await store.config.listWorkspaces()).toEqual(["w1", "w2"]);
      const key = { id: "key1", workspace: "w1", keyHash: "h1", hint: "abcd", createdAt: 5, revokedAt: null, strict: false };
      await store.config.insertIngestKey(key);
      await store.config.insertIngestKey({ ...key, id: "key2", keyHash: "h2", workspace: "w2", createdAt: 6, strict: true });
      expect((await store.config.findIngestKey("h2"))?.strict).toBe(true);
      expect(await store.config.strictWorkspaces()).toEqual([]);
      expect(await store.config.setWorkspaceStrict("w2", true)).toBe(true);
      expect(await store.config.setWorkspaceStrict("nope", true)).toBe(false);
      expect(await store.config.strictWorkspaces()).toEqual(["w2"]);
      expect(await store.config.findIngestKey("h1")).toEqual(key);
      expect((await store.config.listIngestKeys("w2")).map((k) => k.id)).toEqual(["key2"]);
      expect(await store.config.revokeIngestKey("key1", 9)).toBe(true);
      expect(await store.config.revokeIngestKey("key1", 10)).toBe(false);
      expect((await store.config.findIngestKey("h1"))?.revokedAt).toBe(9);
    });

    it("keeps Currents with compare-and-set, their progress (never going back), secrets, history and audit", async () => {
      const { store } = await fresh();
      await store.config.insertCurrent(current("c1"), zero);
      await store.config.insertCurrent(current("c2", ["t.b"], { workspace: "w2", createdAt: 2 }), { ...zero, ackedSeq: 3 });
      expect(await store.config.updateCurrent({ ...current("c1"), name: "renamed", status: "active", updatedAt: 7, batching: { maxInFlight: 2 } })).toBe(true);
      expect(await store.config.getCurrent("c1")).toEqual({ ...current("c1"), name: "renamed", status: "active", updatedAt: 7, batching: { maxInFlight: 2 }, version: 2 });
      // Compare-and-set: a write from the version it read, after someone else wrote, changes nothing.
      expect(await store.config.updateCurrent({ ...current("c1"), status: "paused" })).toBe(false);
      expect((await store.config.getCurrent("c1"))?.status).toBe("active");
      // A launch moves the position in the same step, only when the write happens.
      expect(await store.config.updateCurrent({ ...current("c2", ["t.b"], { workspace: "w2", createdAt: 2 }), version: 7 }, 99)).toBe(false);
      expect((await store.config.getProgress("c2"))?.ackedSeq).toBe(3);
      expect(await store.config.updateCurrent({ ...current("c2", ["t.b"], { workspace: "w2", createdAt: 2 }), status: "active" }, 99)).toBe(true);
      expect((await store.config.getProgress("c2"))?.ackedSeq).toBe(99);
      expect((await store.config.listCurrents()).map((c) => c.id)).toEqual(["c1", "c2"]);
      expect((await store.config.listCurrents("w2")).map((c) => c.id)).toEqual(["c2"]);
      await store.config.replaceSecrets([{ id: "c1", secretsEnc: "resealed" }]);
      expect((await store.config.getCurrent("c1"))?.secretsEnc).toBe("resealed");
      await store.config.updateProgress([{ currentId: "c1", ackedSeq: 5, deliveredDelta: 3, lastDeliveredAt: 11 }, { currentId: "c1", ackedSeq: 4, failedAttemptsDelta: 1, lastError: "HTTP 500", lastErrorAt: 12 }]);
      expect(await store.config.getProgress("c1")).toEqual({ ...zero, ackedSeq: 5, delivered: 3, failedAttempts: 1, lastDeliveredAt: 11, lastError: "HTTP 500", lastErrorAt: 12 });
      await store.config.updateProgress([{ currentId: "c1", lastError: null }]);
      expect((await store.config.getProgress("c1"))?.lastError).toBeNull();
      await store.config.addHistory({ currentId: "c1", at: 1, kind: "status", status: "active", message: "launched" });
      await store.config.addHistory({ currentId: "c1", at: 2, kind: "notice", status: null, message: "hello" });
      expect((await store.config.listHistory("c1", 10)).map((h) => h.message)).toEqual(["hello", "launched"]);
      expect(await store.config.pruneHistory(2, 10)).toBe(1);
      await store.config.addAudit({ at: 1, actor: "admin", action: "POST /x", target: "c1", status: 201, ip: "127.0.0.1", requestId: "r1" });
      await store.config.addAudit({ at: 2, actor: "admin", action: "DELETE /x", target: null, status: 204, ip: null, requestId: null });
      const audit = await store.config.listAudit(10);
      expect(audit.map((a) => a.action)).toEqual(["DELETE /x", "POST /x"]);
      expect((await store.config.listAudit(10, audit[0]?.id)).map((a) => a.action)).toEqual(["POST /x"]);
      expect(await store.config.pruneAudit(2, 10)).toBe(1);
      // A Current deleted while its progress is being written: the write is a no-op, nothing fails.
      expect(await store.config.deleteCurrent("c2")).toBe(true);
      await store.config.updateProgress([{ currentId: "c2", ackedSeq: 100, deliveredDelta: 1 }]);
      expect(await store.config.deleteCurrent("c2")).toBe(false);
      expect(await store.config.getProgress("c2")).toBeUndefined();
    });

    it("keeps the per-minute series (deliveries added up across writers, latest latencies and backlog, cleaned up)", async () => {
      const { store } = await fresh();
      const p = { currentId: "c1", minute: 100, delivered: 5, failed: 1, p50Ms: 12.5, p99Ms: 80, backlog: 3, oldestAgeMs: 900 };
      await store.config.upsertMinutes([p, { ...p, minute: 101, delivered: 2, p50Ms: null, p99Ms: null, backlog: null, oldestAgeMs: null }]);
      // Another process (or this one after a restart) writes the same minute: it adds up.
      await store.config.upsertMinutes([{ ...p, delivered: 6, failed: 0, p50Ms: 20, backlog: null }]);
      expect(await store.config.listMinutes("c1", 100)).toEqual([{ ...p, delivered: 11, failed: 1, p50Ms: 20 }, { ...p, minute: 101, delivered: 2, p50Ms: null, p99Ms: null, backlog: null, oldestAgeMs: null }]);
      expect(await store.config.deliveredSince("c1", 101)).toBe(2);
      expect(await store.config.deliveredSince("c1", 100)).toBe(13);
      // By type, added up the same way.
      await store.config.upsertMinutes([{ ...p, minute: 102, delivered: 3, byType: { "t.a": 2, "t.b": 1 } }, { ...p, minute: 103, delivered: 2, byType: { "t.b": 2 } }]);
      await store.config.upsertMinutes([{ ...p, minute: 103, delivered: 2, byType: { "t.b": 1, "t.c": 1 } }]);
      expect(await store.config.deliveredByType("c1", 102)).toEqual([{ type: "t.b", delivered: 4 }, { type: "t.a", delivered: 2 }, { type: "t.c", delivered: 1 }]);
      expect(await store.config.deliveredByType("c1", 103)).toEqual([{ type: "t.b", delivered: 3 }, { type: "t.c", delivered: 1 }]);
      expect(await store.config.deleteMinutesBefore(101)).toBe(1);
      expect(await store.config.deleteMinutesBefore(103)).toBe(2);
      expect(await store.config.deliveredByType("c1", 0)).toEqual([{ type: "t.b", delivered: 3 }, { type: "t.c", delivered: 1 }]);
    });

    it("keeps dead letters per Current, counted in the same step, paged by id, aged out", async () => {
      const { store } = await fresh();
      await store.config.insertCurrent(current("c1"), zero);
      const l = { currentId: "c1", seq: 1, body: '{"id":"x"}', status: 400, reason: "refused alone", excerpt: "bad", createdAt: 3 };
      await store.deadLetters.add([l, { ...l, seq: 2, status: null, createdAt: 10 }]);
      expect((await store.config.getProgress("c1"))?.deadLettered).toBe(2);
      const list = await store.deadLetters.list("c1", 10);
      expect(list.map((d) => [d.seq, d.status])).toEqual([[1, 400], [2, null]]);
      expect(await store.deadLetters.count("c1")).toBe(2);
      expect(await store.deadLetters.ids("c1", 1)).toEqual([list[0]?.id]);
      expect(await store.deadLetters.ids("c1", 10, list[0]?.id)).toEqual([list[1]?.id]);
      expect((await store.deadLetters.list("c1", 10, list[0]?.id)).map((d) => d.seq)).toEqual([2]);
      expect((await store.deadLetters.get("c1", [list[1]?.id ?? 0, 999_999])).map((d) => d.seq)).toEqual([2]);
      expect(await store.deadLetters.get("other", [list[1]?.id ?? 0])).toEqual([]);
      expect(await store.deadLetters.pruneBefore(5, 10)).toEqual([{ currentId: "c1", count: 1 }]);
      expect(await store.deadLetters.remove("c1", [list[1]?.id ?? 0])).toBe(1);
      expect(await store.deadLetters.count("c1")).toBe(0);
    });

    it("adds a dead letter once per held (Current, seq) when asked: a batch re-sent after a crash and refused again", async () => {
      const { store } = await fresh();
      await store.config.insertCurrent(current("c1"), zero);
      await store.config.insertCurrent(current("c2"), zero);
      const l = { currentId: "c1", seq: 7, body: '{"id":"x"}', status: 400, reason: "refused alone", excerpt: "bad", createdAt: 3 };
      expect(await store.deadLetters.add([l], { unlessHeld: true })).toBe(1);
      expect(await store.deadLetters.add([l, { ...l, seq: 8 }, { ...l, currentId: "c2" }], { unlessHeld: true })).toBe(2);
      expect((await store.deadLetters.bySeq("c1", 7)).length).toBe(1);
      expect((await store.config.getProgress("c1"))?.deadLettered).toBe(2);
      expect(await store.deadLetters.count("c2")).toBe(1);
      // Without it (a redrive refused again: the old letter goes once the redrive settles), a second one is kept.
      expect(await store.deadLetters.add([l])).toBe(1);
      expect((await store.deadLetters.bySeq("c1", 7)).length).toBe(2);
    });

    it("grants a lease to one owner at a time until it expires or is released", async () => {
      const { store } = await fresh();
      expect(await store.leases.acquire("current:c1", "p1", 60_000)).toBe(true);
      expect(await store.leases.acquire("current:c1", "p2", 60_000)).toBe(false);
      expect(await store.leases.acquire("current:c1", "p1", 60_000)).toBe(true); // renewal
      expect((await store.leases.live("current:")).map((x) => [x.name, x.owner])).toEqual([["current:c1", "p1"]]);
      await store.leases.release("current:c1", "p2"); // not the owner: no effect
      expect(await store.leases.acquire("current:c1", "p2", 60_000)).toBe(false);
      await store.leases.release("current:c1", "p1");
      expect(await store.leases.acquire("current:c1", "p2", 1)).toBe(true);
      await new Promise((r) => setTimeout(r, 20));
      expect(await store.leases.live("current:")).toEqual([]);
      expect(await store.leases.acquire("current:c1", "p3", 60_000)).toBe(true); // p2's lease expired
    });

    it("answers ping while open", async () => {
      const { store } = await fresh();
      expect(await store.ping()).toBe(true);
    });

    it("refuses a schema newer than it understands", async () => {
      const { newerSchema } = await fresh();
      const reopen = await newerSchema();
      await expect(reopen()).rejects.toThrow(/schema version 999, newer than this Currents understands/);
    });
  });
});
