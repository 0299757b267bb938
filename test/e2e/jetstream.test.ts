import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { exited, startChild } from "../support/child-service.js";
import { ADMIN, INGEST, tempDir, waitFor } from "../support/harness.js";
import { startNats } from "../support/nats-servers.js";
import { createDatabase, dropDatabase } from "../support/postgres.js";
import { startReceiver } from "../support/receiver.js";

/**
 * JetStream mode against nats-server processes of the test's own (so they can be killed):
 * the whole delivery path, JetStream going away and coming back, and a three-node cluster
 * with three Currents processes losing one of each mid-stream.
 */
const TYPE = "users.messages.email.Send";
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const call = async (base: string, method: string, path: string, body?: unknown, token = ADMIN) => {
  const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, headers: res.headers, body: (await res.json().catch(() => undefined)) as Json };
};
const events = (from: number, n: number, users: number) => Array.from({ length: n }, (_, i) => {
  const k = from + i;
  const e = sampleEvent(TYPE, { id: `u${k % users}-${String(k).padStart(6, "0")}` });
  (e.user as Record<string, unknown>).user_id = `user-${k % users}`;
  return e;
});

/** Each user's events, in the order they first reached the partner, follow acceptance order. */
function expectPerUserOrder(arrived: readonly string[], acked: readonly string[], users: number): void {
  const first: string[] = [];
  const seen = new Set<string>();
  for (const id of arrived) {
    if (!seen.has(id)) first.push(id);
    seen.add(id);
  }
  for (let u = 0; u < users; u++) {
    expect(first.filter((id) => id.startsWith(`u${u}-`)), `user ${u}`).toEqual(acked.filter((id) => id.startsWith(`u${u}-`)));
  }
}

describe("JetStream mode", () => {
  it("delivers per user in order, counts pending, dead-letters and replays; JetStream away: ingest 503 with Retry-After, /readyz 503, then resumes by itself", async () => {
    const nats = await startNats(1);
    cleanup.push(() => nats.stop());
    const db = await createDatabase();
    cleanup.push(() => dropDatabase(db.name));
    const receiver = await startReceiver((r) => (r.events.some((e) => e.id === "poison") ? { status: 400, body: "bad event" } : { status: 200 }));
    cleanup.push(() => receiver.close());
    const dataDir = tempDir();
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const child = await startChild(dataDir, {
      DATABASE_URL: db.url, CURRENTS_MASTER_KEY: "ab".repeat(32), CURRENTS_NATS_URL: nats.url, CURRENTS_NATS_PARTITIONS: "8", CURRENTS_LEASE_MS: "2000",
    });
    cleanup.push(() => { child.proc.kill("SIGKILL"); });
    const api = (method: string, path: string, body?: unknown, token = ADMIN) => call(child.url, method, path, body, token);

    expect((await api("GET", "/readyz")).body).toMatchObject({ status: "ready", store: "jetstream" });
    const created = await api("POST", "/api/v1/currents", { name: "js", partner: "custom_http", settings: { endpoint: receiver.url }, events: [TYPE], ordering: "per_user", batching: { maxBatchEvents: 25, lingerMs: 5 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    expect((await api("POST", `/api/v1/currents/${id}/launch`)).status).toBe(200);

    const acked: string[] = [];
    for (let b = 0; b < 4; b++) {
      const batch = events(b * 50, 50, 10);
      if (b === 2) batch[10] = sampleEvent(TYPE, { id: "poison" });
      const res = await api("POST", "/v1/events", { events: batch }, INGEST);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      for (const e of batch) acked.push(e.id as string);
    }
    const ok = (r: { events: Json[] }) => !r.events.some((e) => e.id === "poison");
    const delivered = () => new Set(receiver.acceptedEvents(ok).map((e) => e.id as string));
    await waitFor(() => acked.every((x) => x === "poison" || delivered().has(x)), 30_000, "every event delivered");
    await waitFor(async () => (await api("GET", `/api/v1/currents/${id}`)).body.stats.pending === 0, 10_000, "pending back to 0");
    const stats = (await api("GET", `/api/v1/currents/${id}`)).body.stats;
    expect(stats).toMatchObject({ deadLettered: 1, pending: 0 });
    expect(stats.delivered).toBeGreaterThanOrEqual(199);
    expectPerUserOrder(receiver.acceptedEvents(ok).map((e) => e.id as string), acked.filter((x) => x !== "poison"), 10);
    // Where is event X, across partitions: an event's attempts are its partition's (batch ranges of partitions overlap).
    const someone = acked[57] as string;
    const found = (await api("GET", `/api/v1/events?eventId=${someone}`)).body;
    expect(found.events).toHaveLength(1);
    const trace = found.events[0].currents[0];
    expect(trace).toMatchObject({ currentName: "js", state: "delivered" });
    expect(trace.attempts.length).toBeGreaterThan(0);
    expect(new Set(trace.attempts.map((a: { partition: number }) => a.partition)).size).toBe(1);
    expect(trace.attempts.every((a: { firstSeq: number; lastSeq: number }) => a.firstSeq <= found.events[0].seq && found.events[0].seq <= a.lastSeq)).toBe(true);
    const poison = (await api("GET", "/api/v1/events?eventId=poison")).body.events[0].currents[0];
    expect(poison).toMatchObject({ state: "dead_lettered", deadLetter: { status: 400 } });
    const userEvents = (await api("GET", `/api/v1/events?userId=${encodeURIComponent(String((found.events[0].event as { user: { user_id: string } }).user.user_id))}`)).body.events as Array<{ id: string }>;
    expect(userEvents.map((e) => e.id)).toContain(someone);

    // JetStream goes away: ingest answers 503 with Retry-After (nothing acknowledged), /readyz 503.
    await nats.kill(0);
    const during = events(1_000, 20, 10);
    const refused = await api("POST", "/v1/events", { events: during }, INGEST);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await api("GET", "/readyz")).status === 503, 15_000, "/readyz 503 without JetStream");
    // ...and comes back: the client's retry is accepted and delivered, with nothing done by hand.
    await nats.restart(0);
    await waitFor(async () => (await api("POST", "/v1/events", { events: during }, INGEST)).status === 200, 30_000, "ingest accepted again");
    await waitFor(async () => (await api("GET", "/readyz")).status === 200, 15_000, "/readyz 200 again");
    await waitFor(() => during.every((e) => delivered().has(e.id as string)), 30_000, "events after the outage delivered");

    // Replay reads the stream across partitions.
    const before = receiver.requests.length;
    const replay = await api("POST", `/api/v1/currents/${id}/replay`, { from: "2020-01-01T00:00:00Z" });
    expect(replay.status, JSON.stringify(replay.body)).toBe(202);
    expect(replay.body.replay.total).toBe(acked.length + during.length);
    await waitFor(async () => (await api("GET", `/api/v1/currents/${id}`)).body.stats.job?.state === "done", 30_000, "replay done");
    const replayed = new Set(receiver.acceptedEvents((_, i) => i >= before).map((e) => e.id as string));
    expect(during.every((e) => replayed.has(e.id as string))).toBe(true);
  }, 120_000);

  it("starts while its NATS cluster is still forming: waits for it instead of exiting", async () => {
    const nats = await startNats(3);
    cleanup.push(() => nats.stop());
    // One node of three left: no quorum, no meta leader, as while a whole cluster restarts.
    await nats.kill(1);
    await nats.kill(2);
    const db = await createDatabase();
    cleanup.push(() => dropDatabase(db.name));
    const dir = tempDir();
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    let waiting = false;
    const starting = startChild(dir, { DATABASE_URL: db.url, CURRENTS_MASTER_KEY: "ab".repeat(32), CURRENTS_NATS_URL: nats.url, CURRENTS_NATS_REPLICAS: "3" },
      { startMs: 90_000, onOutput: (all) => { waiting = /the JetStream cluster is not ready yet/.test(all); } });
    starting.catch(() => undefined); // awaited below; a rejection must not go unhandled meanwhile
    // The other nodes come back only once Currents has said it is waiting (the previous code exited instead).
    await waitFor(() => waiting, 45_000, "Currents waiting for the cluster");
    await Promise.all([nats.restart(1), nats.restart(2)]);
    const child = await starting;
    cleanup.push(() => { child.proc.kill("SIGKILL"); });
    await waitFor(async () => (await call(child.url, "POST", "/v1/events", { events: [sampleEvent(TYPE)] }, INGEST)).status === 200, 30_000, "ingest accepted");
  });

  it("a three-node cluster and three Currents processes: a Current's partitions spread over all three; kill -9 one Currents process and one NATS node mid-stream and every acknowledged event arrives, each user's in order", async () => {
    const nats = await startNats(3);
    cleanup.push(() => nats.stop());
    const db = await createDatabase();
    cleanup.push(() => dropDatabase(db.name));
    const receiver = await startReceiver(() => ({ status: 200 }));
    cleanup.push(() => receiver.close());
    const env = {
      DATABASE_URL: db.url, CURRENTS_MASTER_KEY: "ab".repeat(32), CURRENTS_NATS_URL: nats.url, CURRENTS_NATS_REPLICAS: "3",
      CURRENTS_NATS_PARTITIONS: "12", CURRENTS_LEASE_MS: "2000",
    };
    const children = [];
    for (let i = 0; i < 3; i++) {
      const dir = tempDir();
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const c = await startChild(dir, env);
      cleanup.push(() => { c.proc.kill("SIGKILL"); });
      children.push(c);
    }
    const [a, b, c] = children as [typeof children[0], typeof children[0], typeof children[0]];
    const created = await call(a.url, "POST", "/api/v1/currents", { name: "spread", partner: "custom_http", settings: { endpoint: receiver.url }, events: [TYPE], ordering: "per_user", batching: { maxBatchEvents: 20, lingerMs: 5 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await call(a.url, "POST", `/api/v1/currents/${created.body.id}/launch`)).status).toBe(200);

    // The 12 (Current, partition) leases end up spread over the three processes, as /api/v1/cluster shows.
    const owners = async () => {
      const cluster = (await call(b.url, "GET", "/api/v1/cluster")).body;
      expect(cluster.partitions).toBe(12);
      const by = new Map<string, number>();
      for (const u of cluster.currents as Array<{ process: string; partition: number }>) {
        expect(u.partition).toBeGreaterThanOrEqual(0);
        by.set(u.process, (by.get(u.process) ?? 0) + 1);
      }
      return [...by.values()];
    };
    await waitFor(async () => { const o = await owners(); return o.length === 3 && o.every((n) => n === 4); }, 20_000, "12 partitions spread 4/4/4");

    const USERS = 40;
    const acked: string[] = [];
    // A producer that retries a batch until it is acknowledged (503 while the cluster elects a leader).
    let aDead = false;
    const send = async (batch: Json[], k: number) => {
      for (let tries = 0; tries < 200; tries++) {
        const live = aDead ? [b, c] : [a, b, c];
        const target = live[(k + tries) % live.length] as typeof a;
        const res = await call(target.url, "POST", "/v1/events", { events: batch }, INGEST).catch(() => ({ status: 0 }));
        if (res.status === 200) {
          for (const e of batch) acked.push(e.id as string);
          return;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error("a batch was never acknowledged");
    };
    for (let k = 0; k < 30; k++) {
      await send(events(k * 40, 40, USERS), k);
      if (k === 10) {
        a.proc.kill("SIGKILL");
        await exited(a.proc);
        aDead = true;
        await nats.kill(1);
      }
    }
    const arrived = () => receiver.acceptedEvents(() => true).map((e) => e.id as string);
    await waitFor(() => { const got = new Set(arrived()); return acked.every((x) => got.has(x)); }, 60_000, "every acknowledged event delivered");
    expectPerUserOrder(arrived(), acked, USERS);
    // The dead process's partitions moved to the two live ones.
    await waitFor(async () => { const o = await owners(); return o.length === 2 && o.reduce((s, n) => s + n, 0) === 12; }, 20_000, "12 partitions on the two live processes");
  }, 180_000);
});
