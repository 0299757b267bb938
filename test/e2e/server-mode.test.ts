import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { exited, startChild } from "../support/child-service.js";
import { ADMIN, INGEST, tempDir, waitFor } from "../support/harness.js";
import { adminQuery, createDatabase, dropDatabase } from "../support/postgres.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

/**
 * Server mode against the real PostgreSQL: several `currents start` processes on one
 * database share ingest and delivery; one is killed with kill -9 under load; the database
 * stops accepting connections in the middle of a stream.
 */
const TYPE = "users.messages.email.Send";
const MASTER_KEY = "ab".repeat(32);
const LEASE_MS = 3_000;
const BATCH = { maxBatchEvents: 50, lingerMs: 20, maxInFlight: 4 };

type Child = Awaited<ReturnType<typeof startChild>>;
let db: { name: string; url: string };
const children: Child[] = [];
const dirs: string[] = [];
const receivers: Receiver[] = [];

beforeAll(async () => { db = await createDatabase(); });
afterAll(async () => {
  for (const c of children) c.proc.kill("SIGKILL");
  await Promise.all(children.map((c) => exited(c.proc)));
  for (const r of receivers) await r.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await dropDatabase(db.name);
});

/** Trust auth ignores the password, so it can be any secret we then look for in the output. */
const DB_PASSWORD = "db-password-must-not-leak";
const withPassword = (url: string) => {
  const u = new URL(url);
  u.password = DB_PASSWORD;
  return u.toString();
};

async function startProcess(): Promise<Child> {
  const dir = tempDir();
  dirs.push(dir);
  const child = await startChild(dir, { CURRENTS_LOG_LEVEL: "info", DATABASE_URL: withPassword(db.url), CURRENTS_MASTER_KEY: MASTER_KEY, CURRENTS_LEASE_MS: String(LEASE_MS), CURRENTS_DB_POOL_MAX: "5" });
  children.push(child);
  return child;
}

async function api(url: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${url}${path}`, {
    method, headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function launch(url: string, name: string): Promise<{ id: string; receiver: Receiver }> {
  const receiver = await startReceiver();
  receivers.push(receiver);
  const created = await api(url, "POST", "/api/v1/currents", { name, partner: "custom_http", settings: { endpoint: receiver.url }, events: [TYPE], batching: BATCH });
  expect(created.status).toBe(201);
  expect((await api(url, "POST", `/api/v1/currents/${created.body.id}/launch`)).status).toBe(200);
  return { id: created.body.id as string, receiver };
}

/**
 * Posts `total` events in requests of 100 to the processes in turn. A request that gets no
 * answer or a 503 is sent again (to the next process): what a well-behaved client does.
 */
async function produce(urls: () => string[], total: number, tag: string, onProgress?: (acked: number) => void) {
  const acked = new Set<string>();
  const answers = new Map<number, number>();
  let next = 0;
  let turn = 0;
  const worker = async () => {
    while (next < total) {
      const first = next;
      next += 100;
      const events = Array.from({ length: Math.min(100, total - first) }, (_, i) => sampleEvent(TYPE, { id: `${tag}-${first + i}`, n: first + i }));
      for (let attempt = 0; attempt < 200; attempt++) {
        const list = urls();
        const url = list[turn++ % list.length] as string;
        const res = await fetch(`${url}/v1/events`, {
          method: "POST", headers: { authorization: `Bearer ${INGEST}`, "content-type": "application/json" }, body: JSON.stringify({ events }),
        }).catch(() => undefined);
        if (res) answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
        if (res?.status === 200) {
          for (const e of events) acked.add(e.id as string);
          onProgress?.(acked.size);
          break;
        }
        if (res && res.status !== 503) throw new Error(`unexpected answer ${res.status}: ${await res.text()}`);
        await res?.text();
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return { acked, answers };
}

const ids = (r: Receiver) => r.events().map((e) => e.id as string);

describe("server mode on PostgreSQL", () => {
  it("three processes share ingest and delivery; kill -9 of one loses no acknowledged event, duplicates bounded by batches in flight", async () => {
    const procs = [await startProcess(), await startProcess(), await startProcess()];
    const currents = [await launch(procs[0]!.url, "A"), await launch(procs[1]!.url, "B"), await launch(procs[2]!.url, "C")];
    // Each process takes its share: one Current each.
    await waitFor(async () => {
      const c = (await api(procs[0]!.url, "GET", "/api/v1/cluster")).body;
      return c.processes.length === 3 && c.currents.length === 3 && new Set(c.currents.map((x: { process: string }) => x.process)).size === 3;
    }, 20_000, "three processes each delivering one Current");

    const cluster = (await api(procs[0]!.url, "GET", "/api/v1/cluster")).body;
    const victimOwner = cluster.currents.find((x: { currentId: string }) => x.currentId === currents[0]!.id).process as string;
    let victim: Child | undefined;
    for (const p of procs) if ((await api(p.url, "GET", "/api/v1/cluster")).body.process === victimOwner) victim = p;
    expect(victim).toBeDefined();

    const alive = new Set(procs);
    let killed = false;
    const { acked, answers } = await produce(() => [...alive].map((p) => p.url), 12_000, "k", (n) => {
      if (!killed && n >= 4_000) {
        killed = true;
        victim!.proc.kill("SIGKILL");
        alive.delete(victim!);
      }
    });
    expect(killed).toBe(true);
    expect(acked.size).toBe(12_000);
    expect(answers.get(200)).toBeGreaterThanOrEqual(120);

    // Every acknowledged event reaches every Current's receiver, the victim's Current included
    // (taken over by a survivor once its lease expired).
    const duplicates: number[] = [];
    for (const { receiver } of currents) {
      await waitFor(() => new Set(ids(receiver)).size >= acked.size, 60_000, "every acknowledged event delivered");
      const got = ids(receiver);
      const distinct = new Set(got);
      for (const id of acked) expect(distinct.has(id)).toBe(true);
      // At least once: re-sent events are at most the batches that were in flight at the kill.
      expect(got.length - distinct.size).toBeLessThanOrEqual(BATCH.maxInFlight * BATCH.maxBatchEvents);
      duplicates.push(got.length - distinct.size);
    }
    console.log(`re-sent events per Current (the first lost its process): ${duplicates.join(", ")}; answers ${JSON.stringify(Object.fromEntries(answers))}`);
    for (const p of procs) expect(p.output()).not.toContain(DB_PASSWORD);
    const after = (await api([...alive][0]!.url, "GET", "/api/v1/cluster")).body;
    expect(after.processes.map((p: { id: string }) => p.id)).not.toContain(victimOwner);
    expect(after.currents.map((c: { process: string }) => c.process)).not.toContain(victimOwner);
  }, 120_000);

  it("rides out the database refusing connections mid-stream: 503 with Retry-After, readyz says so, nothing acknowledged is lost", async () => {
    const p = await startProcess();
    const { id, receiver } = await launch(p.url, "D");
    let cut = false;
    const outage = async () => {
      await adminQuery(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
      await adminQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [db.name]);
      await waitFor(async () => (await fetch(`${p.url}/readyz`)).status === 503, 10_000, "readyz to report the database");
      const refused = await fetch(`${p.url}/v1/events`, {
        method: "POST", headers: { authorization: `Bearer ${INGEST}`, "content-type": "application/json" },
        body: JSON.stringify({ events: [sampleEvent(TYPE, { id: "during-outage", n: 0 })] }),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("5");
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("unavailable");
      await new Promise((r) => setTimeout(r, 1_500));
      await adminQuery(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
    };
    let outageDone: Promise<void> | undefined;
    const { acked, answers } = await produce(() => [p.url], 6_000, "o", (n) => {
      if (!cut && n >= 2_000) {
        cut = true;
        outageDone = outage();
      }
    });
    await outageDone;
    expect(answers.get(503)).toBeGreaterThan(0);
    expect((await fetch(`${p.url}/readyz`)).status).toBe(200);
    await waitFor(() => new Set(ids(receiver)).size >= acked.size, 60_000, "every acknowledged event delivered after the outage");
    const distinct = new Set(ids(receiver));
    for (const id of acked) expect(distinct.has(id)).toBe(true);
    // The outage was logged (info level), without the database password.
    expect(p.output()).toMatch(/unreachable|lost/);
    expect(p.output()).not.toContain(DB_PASSWORD);
    // Deleting the Current lets go of its lease at once.
    await waitFor(async () => (await api(p.url, "GET", "/api/v1/cluster")).body.currents.some((c: { currentId: string }) => c.currentId === id), 10_000, "the lease");
    expect((await api(p.url, "DELETE", `/api/v1/currents/${id}`)).status).toBe(204);
    expect((await api(p.url, "GET", "/api/v1/cluster")).body.currents.map((c: { currentId: string }) => c.currentId)).not.toContain(id);
  }, 120_000);

  it("a change made through one process holds on another within 2 s: a new key, a revoked key, a paused Current", async () => {
    const [a, b] = [await startProcess(), await startProcess()];
    const ingest = (url: string, key: string, id: string) => fetch(`${url}/v1/events`, {
      method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify({ events: [sampleEvent(TYPE, { id, n: 1 })] }),
    }).then((r) => r.status);
    const created = (await api(a.url, "POST", "/api/v1/ingest-keys", { workspace: "default" })).body;
    const t0 = Date.now();
    await waitFor(async () => (await ingest(b.url, created.key, `k-${Date.now()}`)) === 200, 2_000, "the key created on A to work on B");
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect((await api(a.url, "DELETE", `/api/v1/ingest-keys/${created.id}`)).status).toBe(204);
    const t1 = Date.now();
    await waitFor(async () => (await ingest(b.url, created.key, `r-${Date.now()}`)) === 401, 2_000, "the key revoked on A to be refused by B");
    expect(Date.now() - t1).toBeLessThan(2_000);
    // A Current paused through one process stops being sent by whichever process delivers it.
    const { id, receiver } = await launch(a.url, "P");
    await waitFor(async () => (await api(a.url, "GET", "/api/v1/cluster")).body.currents.some((c: { currentId: string }) => c.currentId === id), 10_000, "the Current's lease");
    const owner = (await api(a.url, "GET", "/api/v1/cluster")).body.currents.find((c: { currentId: string }) => c.currentId === id).process as string;
    const other = (await api(a.url, "GET", "/api/v1/cluster")).body.process === owner ? b : a;
    expect((await api(other.url, "POST", `/api/v1/currents/${id}/pause`)).status).toBe(200);
    const t2 = Date.now();
    await waitFor(async () => !(await api(a.url, "GET", "/api/v1/cluster")).body.currents.some((c: { currentId: string }) => c.currentId === id), 2_000, "the owner to let the paused Current go");
    expect(Date.now() - t2).toBeLessThan(2_000);
    const before = receiver.events().length;
    expect(await ingest(other.url, INGEST, "after-pause")).toBe(200);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receiver.events().length).toBe(before);
  }, 60_000);
});
