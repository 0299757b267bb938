import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { closedAfterEach, launchCurrent, tempDir, waitFor } from "../support/harness.js";
import { createDatabase, dropDatabase } from "../support/postgres.js";

const use = closedAfterEach();
const TYPE = "users.messages.email.Send";
const OTHER = "users.behaviors.app.SessionStart";

let db: { name: string; url: string };
beforeAll(async () => { db = await createDatabase(); });
afterAll(async () => { await dropDatabase(db.name); });

const stores = [
  { name: "embedded store", config: () => ({}) },
  { name: "PostgreSQL", config: () => ({ databaseUrl: db.url, masterKey: "ab".repeat(32) }) },
];

describe.each(stores)("where is event X? ($name)", ({ config }) => {
  it("keeps every attempt in the store (across a restart), and tells per Current: delivered in which attempt, pending since when, dead-lettered why", async () => {
    let calls = 0;
    // The first request fails (503), then every event is taken except the one named "bad-1".
    const receiver = await use.receiver((req) => {
      calls++;
      if (calls === 1) return { status: 503, body: "warming up" };
      return req.raw.includes("bad-1") ? { status: 400, body: "{\"error\":\"bad-1 has no email\"}" } : { status: 200, body: "{\"accepted\":true}" };
    });
    const dataDir = tempDir();
    let svc = await use.service({ dataDir, config: config() });
    const custom = (name: string) => ({ name, partner: "custom_http", settings: { endpoint: receiver.url } });
    const a = await launchCurrent(svc, receiver.url, [TYPE], custom("Analytics"));
    const b = await launchCurrent(svc, receiver.url, [TYPE], custom("Warehouse"));
    await launchCurrent(svc, receiver.url, [OTHER], custom("Sessions only"));
    await svc.admin("POST", `/api/v1/currents/${b}/pause`);
    const user = { external_user_id: "user-42" };
    expect((await svc.ingest([{ ...sampleEvent(TYPE, { id: "ok-1" }), user }])).status).toBe(200);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${a}`)).body.stats.delivered === 1, 20_000, "ok-1 delivered after a retry");
    expect((await svc.ingest([{ ...sampleEvent(TYPE, { id: "bad-1" }), user }, sampleEvent(TYPE, { id: "someone-else" })])).status).toBe(200);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${a}`)).body.stats.deadLettered === 1, 20_000, "bad-1 dead-lettered");

    // The attempt log survives a restart: it is in the store, not in memory.
    await svc.close(false);
    svc = await use.service({ dataDir, config: config() });
    const all = (await svc.admin("GET", `/api/v1/currents/${a}/attempts`)).body;
    expect(all.attempts.map((x: { outcome: string }) => x.outcome)).toEqual(expect.arrayContaining(["retry", "delivered", "split"]));
    const failed = (await svc.admin("GET", `/api/v1/currents/${a}/attempts?outcome=failed`)).body.attempts as Array<{ outcome: string; status: number; excerpt: string }>;
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.every((x) => x.outcome !== "delivered")).toBe(true);
    expect(failed.some((x) => x.status === 503 && x.excerpt === "warming up")).toBe(true);
    // Pages: one at a time, newest first, each page's `next` leads to the one after.
    const page1 = (await svc.admin("GET", `/api/v1/currents/${a}/attempts?limit=1`)).body;
    const page2 = (await svc.admin("GET", `/api/v1/currents/${a}/attempts?limit=1&before=${page1.next}`)).body;
    expect(page1.attempts[0].id).toBeGreaterThan(page2.attempts[0].id);
    expect(page2.attempts[0].id).toBe(all.attempts[1].id);
    const future = (await svc.admin("GET", `/api/v1/currents/${a}/attempts?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`)).body;
    expect(future.attempts).toEqual([]);

    const ok = (await svc.admin("GET", "/api/v1/events?eventId=ok-1")).body;
    expect(ok).toMatchObject({ complete: true, indexed: true });
    expect(ok.events).toHaveLength(1);
    expect(ok.events[0]).toMatchObject({ id: "ok-1", type: TYPE });
    const byName = Object.fromEntries(ok.events[0].currents.map((c: { currentName: string }) => [c.currentName, c]));
    expect(Object.keys(byName).sort()).toEqual(["Analytics", "Warehouse"]); // "Sessions only" does not select the type
    expect(byName.Analytics.state).toBe("delivered");
    expect(Date.parse(byName.Analytics.deliveredAt)).toBeGreaterThan(Date.now() - 120_000);
    expect(byName.Analytics.attempts.map((x: { outcome: string; attempt: number; status: number }) => [x.outcome, x.attempt, x.status])).toEqual([["retry", 1, 503], ["delivered", 2, 200]]);
    expect(byName.Analytics.attempts[1].excerpt).toBe("{\"accepted\":true}");
    expect(byName.Warehouse).toMatchObject({ state: "pending", deliveredAt: null, attempts: [] });
    expect(Date.parse(byName.Warehouse.pendingSince)).toBe(Date.parse(ok.events[0].receivedAt));

    const bad = (await svc.admin("GET", "/api/v1/events?eventId=bad-1")).body;
    const badA = bad.events[0].currents.find((c: { currentId: string }) => c.currentId === a);
    expect(badA).toMatchObject({ state: "dead_lettered", deadLetter: { status: 400, reason: "refused by the partner (400)" } });
    expect(badA.deadLetter.excerpt).toContain("bad-1 has no email");

    const mine = (await svc.admin("GET", "/api/v1/events?userId=user-42")).body;
    expect(mine.events.map((e: { id: string }) => e.id)).toEqual(["ok-1", "bad-1"]);
    expect(mine.indexed).toBe(false);

    // Past the dedupe window the id is found by scanning the window asked for.
    await svc.app.services.store.events.pruneDedupe(Date.now() + 1, 1_000);
    const scanned = (await svc.admin("GET", "/api/v1/events?eventId=ok-1")).body;
    expect(scanned).toMatchObject({ indexed: false, complete: true });
    expect(scanned.events.map((e: { id: string }) => e.id)).toEqual(["ok-1"]);
    const earlier = (await svc.admin("GET", `/api/v1/events?eventId=ok-1&until=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}&since=${Math.floor(Date.now() / 1000) - 7_200}`)).body;
    expect(earlier.events).toEqual([]);
    expect((await svc.admin("GET", "/api/v1/events?eventId=never-sent")).body).toMatchObject({ events: [], complete: true });
  });

  it("names what is wrong in a search", async () => {
    const svc = await use.service({ config: config() });
    const both = await svc.admin("GET", "/api/v1/events?eventId=a&userId=b");
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/exactly one of eventId and userId/);
    expect((await svc.admin("GET", "/api/v1/events")).status).toBe(400);
    const since = await svc.admin("GET", "/api/v1/events?eventId=a&since=yesterday");
    expect(since.status).toBe(400);
    expect(since.body.error.field).toBe("since");
    expect((await svc.admin("GET", "/api/v1/currents/nope/attempts")).status).toBe(404);
    expect((await svc.admin("GET", "/api/v1/events?eventId=a", undefined)).status).toBe(200);
  });
});
