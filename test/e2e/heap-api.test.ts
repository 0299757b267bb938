import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import type { RetryPolicy } from "../../src/delivery/retry-policy.js";
import { FakeHeap, type FakeHeapOptions } from "../../src/receiver/fake-heap.js";
import { exited, startChild } from "../support/child-service.js";
import { ADMIN, INGEST, type Service, startService, tempDir, waitFor } from "../support/harness.js";

const fastRetries: RetryPolicy = { baseDelayMs: 20, maxDelayMs: 200, multiplier: 2, jitterRatio: 0.2, maxRetryAfterMs: 2_000 };
const OPEN = "users.messages.email.Open";
const SEND = "users.messages.pushnotification.Send";
const APP = "1234567890";

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** An event of `type` for the user whose external id is `user`. */
function event(type: string, user: string | undefined, id: string, extra: Record<string, unknown> = {}) {
  const e = sampleEvent(type, { id, n: 1 }) as { user: Record<string, unknown>; properties?: Record<string, unknown> };
  if (user === undefined) delete e.user.external_user_id;
  else e.user.external_user_id = user;
  e.properties = { ...e.properties, ...extra };
  return e;
}

async function setup(options: { heap?: FakeHeapOptions; settings?: Record<string, unknown>; rateWindowMs?: number; events?: string[] } = {}) {
  const heap = new FakeHeap({ appIds: [APP], ...options.heap });
  const url = await heap.start();
  cleanup.push(() => heap.close());
  const svc: Service = await startService({ app: { retryPolicy: fastRetries }, config: { rateWindowMs: options.rateWindowMs ?? 60_000 } });
  cleanup.push(() => svc.close());
  const created = await svc.admin("POST", "/api/v1/currents", {
    name: "Heap API", partner: "heap_api", settings: { appId: APP, baseUrl: url, ...options.settings }, events: options.events ?? [OPEN, SEND], batching: { lingerMs: 20 },
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  expect((await svc.admin("POST", `/api/v1/currents/${id}/launch`)).status).toBe(200);
  const stats = async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats;
  return { heap, svc, id, url, stats };
}

describe("Heap server-side API (heap_api)", () => {
  it("sends every selected event once, in Heap's documented shapes, with user properties once per change", async () => {
    const { heap, svc, id, stats } = await setup({ settings: { eventNames: "friendly", prefix: "braze-" } });
    // Field transformations apply before Heap's flattening.
    expect((await svc.admin("PATCH", `/api/v1/currents/${id}`, { transformations: [{ field: "nested", action: "remove" }, { field: "secret", action: "hash" }] })).status).toBe(200);
    const long = "x".repeat(3_000);
    const batch = [
      ...Array.from({ length: 150 }, (_, i) => event(OPEN, `u${i % 5}`, `open-${i}`, { email_address: `u${i % 5}@example.com`, meta: { deep: { flag: true } }, nested: { x: 1 }, secret: "s3cr3t", tags: ["a", "b"], gone: null })),
      event(SEND, "u1", "send-long", { long }),
      event("users.behaviors.CustomEvent", "u1", "custom-not-selected"),
    ];
    expect((await svc.ingest(batch)).status).toBe(200);
    await waitFor(async () => (await stats()).delivered === 151, 15_000, "151 delivered");
    expect(heap.events.size).toBe(151);
    expect(heap.repeats).toBe(0);
    const open = heap.events.get("open-7");
    expect(open).toMatchObject({ identity: "u2", event: "braze-Email Open", idempotency_key: "open-7" });
    expect(open?.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(open?.properties).toMatchObject({ "meta.deep.flag": "true", tags: "a||b", currents_event_type: OPEN, currents_event_id: "open-7" });
    expect(open?.properties.secret).toBe(createHash("sha256").update("s3cr3t").digest("hex"));
    expect(open?.properties.nested).toBe("[REDACTED]"); // removed before flattening: no "nested.x"
    expect(Object.keys(open?.properties ?? {})).not.toContain("nested.x");
    expect(Object.keys(open?.properties ?? {})).not.toContain("gone");
    expect(heap.events.get("send-long")?.event).toBe("braze-Push Notification Send");
    expect(String(heap.events.get("send-long")?.properties.long).length).toBe(1_023);
    expect((await stats()).valuesCut).toBe(1);
    // Five users, one email each: one user-properties entry per user, however many events carried it.
    expect([...heap.userUpdates.values()]).toEqual([1, 1, 1, 1, 1]);
    expect(heap.users.get("u3")).toMatchObject({ email: "u3@example.com" });
    // A changed email is sent again, once.
    await svc.ingest([event(OPEN, "u3", "open-new-email", { email_address: "new@example.com" }), event(OPEN, "u3", "open-same", { email_address: "new@example.com" })]);
    await waitFor(async () => (await stats()).delivered === 153);
    expect(heap.userUpdates.get("u3")).toBe(2);
    expect(heap.users.get("u3")).toMatchObject({ email: "new@example.com" });
  });

  it("retries 5xx, 429 and resets with the same idempotency keys, and dead-letters the one event Heap refuses", async () => {
    let failures = 0;
    const { heap, svc, id, stats } = await setup({
      heap: {
        misbehave: (path, body) => {
          if (path !== "/api/track") return undefined;
          const events = (body as { events: Array<{ idempotency_key: string }> }).events;
          if (events.some((e) => e.idempotency_key === "bad-1")) return { status: 400, body: "postBody.events[0].properties should be object" };
          failures++;
          if (failures === 1) return { status: 503, body: "unavailable" };
          if (failures === 2) return { status: 429, body: "slow down", headers: { "retry-after": "1" } };
          if (failures === 3) return "reset";
          return undefined;
        },
      },
    });
    await svc.ingest([...Array.from({ length: 40 }, (_, i) => event(OPEN, `u${i % 3}`, `e-${i}`)), event(OPEN, "u1", "bad-1")]);
    await waitFor(async () => (await stats()).delivered === 40 && (await stats()).deadLettered === 1, 20_000, "40 delivered and 1 dead letter");
    expect(new Set(heap.events.keys())).toEqual(new Set(Array.from({ length: 40 }, (_, i) => `e-${i}`)));
    expect(heap.repeats).toBe(0); // the failed attempts never reached Heap's store
    const letters = (await svc.admin("GET", `/api/v1/currents/${id}/dead-letters`)).body;
    expect(letters.deadLetters[0]).toMatchObject({ status: 400, reason: "refused by the partner (400)" });
    expect(letters.deadLetters[0].event.id).toBe("bad-1");
    expect((await stats()).deadLettersByReason).toEqual([{ reason: "refused by the partner (400)", count: 1 }]);
  });

  it("holds a hot identity back alone: the others flow within one window, with no 429 from Heap", async () => {
    // A one-second window: 1,000 events per window for the app, 100 per identity (per minute: 60,000 and 6,000).
    const { heap, svc, stats } = await setup({
      rateWindowMs: 1_000,
      heap: { windowMs: 1_000, appEventsPerWindow: 1_000, identityEventsPerWindow: 100 },
      settings: { appEventsPerMinute: 60_000, identityEventsPerMinute: 6_000 },
    });
    await svc.ingest(Array.from({ length: 500 }, (_, i) => event(OPEN, "hot", `hot-${i}`)));
    await waitFor(() => heap.eventsOf("hot").length >= 100, 10_000, "the hot identity's first window");
    await svc.ingest(Array.from({ length: 60 }, (_, i) => event(OPEN, `cool-${i % 6}`, `cool-${i}`)));
    let heldSeen = 0;
    await waitFor(async () => {
      const s = await stats();
      heldSeen = Math.max(heldSeen, s.heldByRateLimit);
      // Held events are pending: the acknowledged position never passes them.
      expect(s.pending).toBeGreaterThanOrEqual(s.heldByRateLimit);
      return [...heap.events.keys()].filter((k) => k.startsWith("cool-")).length === 60;
    }, 10_000, "the other identities' events");
    const hotBefore = heap.eventsOf("hot").length;
    // The others arrived while the hot identity was still held: at most its next window had gone.
    expect(hotBefore).toBeLessThanOrEqual(300);
    expect(heldSeen).toBeGreaterThan(0);
    await waitFor(async () => (await stats()).delivered === 560, 15_000, "every event");
    expect(heap.eventsOf("hot")).toHaveLength(500);
    expect(heap.answers.get(429) ?? 0).toBe(0);
    expect(heap.repeats).toBe(0);
    expect((await stats()).pending).toBe(0);
  });

  it("dead-letters events without the chosen identity, and delivers them after a redrive with a fixed setting", async () => {
    const { heap, svc, id, stats } = await setup();
    await svc.ingest([event(OPEN, undefined, "anon-1"), event(OPEN, "u1", "known-1"), event(OPEN, undefined, "anon-2")]);
    await waitFor(async () => (await stats()).deadLettered === 2 && (await stats()).delivered === 1);
    expect([...heap.events.keys()]).toEqual(["known-1"]);
    expect((await stats()).deadLettersByReason).toEqual([{ reason: "no identity (external_user_id)", count: 2 }]);
    expect((await svc.admin("PATCH", `/api/v1/currents/${id}`, { settings: { identity: "user_id" } })).status).toBe(200);
    expect((await svc.admin("POST", `/api/v1/currents/${id}/dead-letters/redrive`, {})).status).toBe(202);
    await waitFor(async () => heap.events.size === 3 && (await stats()).deadLettered === 0, 10_000, "redriven");
    expect(heap.events.get("anon-1")?.identity).toBe("user-1");
  });

  it("names the setting that is wrong, and sends to the region's URL", async () => {
    const { svc } = await setup();
    const bad = async (settings: Record<string, unknown>) => (await svc.admin("POST", "/api/v1/currents", { name: "x", partner: "heap_api", settings, events: [OPEN] })).body.error;
    expect(await bad({})).toMatchObject({ field: "settings.appId" });
    expect(await bad({ appId: "abc" })).toMatchObject({ field: "settings.appId", message: expect.stringContaining("digits") });
    expect(await bad({ appId: APP, region: "mars" })).toMatchObject({ field: "settings.region", message: expect.stringContaining("us, eu") });
    expect(await bad({ appId: APP, identity: "a b" })).toMatchObject({ field: "settings.identity" });
    expect(await bad({ appId: APP, identityEventsPerMinute: 0 })).toMatchObject({ field: "settings.identityEventsPerMinute" });
    expect(await bad({ appId: APP, userProperties: { "user.id_field": "ID" } })).toMatchObject({ field: "settings.userProperties.user.id_field" });
    expect(await bad({ appId: APP, baseUrl: "ftp://heap.example.com/" })).toMatchObject({ field: "settings.baseUrl" });
    const eu = await svc.admin("POST", "/api/v1/currents", { name: "eu", partner: "heap_api", settings: { appId: APP, region: "eu" }, events: [OPEN] });
    expect(eu.status).toBe(201);
    expect(eu.body.destination).toBe("https://c.eu.heap-api.com/api/track");
    const us = await svc.admin("POST", "/api/v1/currents", { name: "us", partner: "heap_api", settings: { appId: APP }, events: [OPEN] });
    expect(us.body.destination).toBe("https://heapanalytics.com/api/track");
  });

  it("checks the connection and sends test events to the test identity only", async () => {
    const { heap, svc, id, url } = await setup();
    const check = await svc.admin("POST", "/api/v1/partners/heap_api/check", { settings: { appId: APP, baseUrl: url } });
    expect(check.body).toMatchObject({ ok: true, status: 200 });
    const refused = await svc.admin("POST", "/api/v1/partners/heap_api/check", { settings: { appId: "999", baseUrl: url } });
    expect(refused.body).toMatchObject({ ok: false, status: 401 });
    const test = await svc.admin("POST", `/api/v1/currents/${id}/test`);
    expect(test.body).toMatchObject({ ok: true });
    const identities = new Set([...heap.events.values()].map((e) => e.identity));
    expect(identities).toEqual(new Set(["currents-test"]));
    expect(heap.events.size).toBe(3); // the check's event and one test event of each selected type
    const partners = (await svc.admin("GET", "/api/v1/partners")).body.partners;
    expect(partners.find((p: { id: string }) => p.id === "heap_api").testEventsNote).toContain("currents-test");
  });
});

describe("Heap server-side API: kill -9", () => {
  it("loses nothing acknowledged when the process is killed mid-stream", async () => {
    const heap = new FakeHeap({ appIds: [APP], misbehave: (_p, _b, i) => (i % 7 === 3 ? { status: 503 } : undefined) });
    const url = await heap.start();
    cleanup.push(() => heap.close());
    const dataDir = tempDir();
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const box = { child: await startChild(dataDir) };
    cleanup.push(() => { box.child.proc.kill("SIGKILL"); });
    const api = async (method: string, path: string, body?: unknown, token = ADMIN) => {
      const res = await fetch(`${box.child.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const created = await api("POST", "/api/v1/currents", { name: "Heap API", partner: "heap_api", settings: { appId: APP, baseUrl: url }, events: [OPEN], batching: { maxBatchEvents: 50, lingerMs: 10 } });
    expect(created.status).toBe(201);
    expect((await api("POST", `/api/v1/currents/${created.body.id}/launch`)).status).toBe(200);
    const acked = new Set<string>();
    for (let b = 0; b < 20; b++) {
      const events = Array.from({ length: 100 }, (_, i) => event(OPEN, `u${i % 40}`, `k-${b}-${i}`));
      const res = await api("POST", "/v1/events", { events }, INGEST);
      if (res.status === 200) for (const e of events) acked.add((e as unknown as { id: string }).id);
      if (b === 12) {
        await waitFor(() => heap.events.size > 0, 10_000, "some delivered before the kill");
        box.child.proc.kill("SIGKILL");
        await exited(box.child.proc);
        box.child = await startChild(dataDir);
      }
    }
    await waitFor(() => [...acked].every((k) => heap.events.has(k)), 30_000, "every acknowledged event in Heap");
    expect(acked.size).toBeGreaterThanOrEqual(1_900);
  });
});
