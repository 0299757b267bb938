import { afterEach, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import type { RetryPolicy } from "../../src/delivery/retry-policy.js";
import { rmSync } from "node:fs";
import { allEventTypes } from "../../src/catalog/catalog.js";
import { produce } from "../../src/simulator/producer.js";
import { fakeAmplitude, fakeMixpanel, fakeSegment } from "../support/fake-analytics.js";
import { INGEST, type Service, startService, tempDir, waitFor } from "../support/harness.js";

const fastRetries: RetryPolicy = { baseDelayMs: 20, maxDelayMs: 200, multiplier: 2, jitterRatio: 0.2, maxRetryAfterMs: 2_000 };
const OPEN = "users.messages.email.Open";
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const event = (id: string, user: string, extra: Record<string, unknown> = {}) => {
  const e = sampleEvent(OPEN, { id, n: 1 }) as { user: Record<string, unknown>; properties: Record<string, unknown> };
  e.user.external_user_id = user;
  e.properties = { ...e.properties, ...extra };
  return e;
};

async function launch(partner: string, settings: Record<string, unknown>, batching: Record<string, number> = {}) {
  const svc: Service = await startService({ app: { retryPolicy: fastRetries } });
  cleanup.push(() => svc.close());
  const created = await svc.admin("POST", "/api/v1/currents", { name: partner, partner, settings, events: [OPEN], batching: { lingerMs: 30, ...batching } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  expect((await svc.admin("POST", `/api/v1/currents/${id}/launch`)).status).toBe(200);
  const current = async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body;
  const letters = async () => (await svc.admin("GET", `/api/v1/currents/${id}/dead-letters`)).body.deadLetters as Array<{ reason: string; event: { id: string } }>;
  return { svc, id, current, letters };
}

describe("analytics partners: answers that name events", () => {
  it("a partner that reads its answers counts each delivered batch once (attempts and the delivered metric)", async () => {
    const amp = await fakeAmplitude({ apiKey: "amp-key-0123456789abcdef", perUser: 1_000, windowMs: 60_000 });
    cleanup.push(() => amp.close());
    const { svc, id, current } = await launch("amplitude", { apiKey: "amp-key-0123456789abcdef", baseUrl: amp.url });
    await svc.ingest(Array.from({ length: 7 }, (_, i) => event(`once-${i}`, `user-${i}`)));
    await waitFor(async () => (await current()).stats.delivered === 7, 10_000, "7 delivered");
    const attempts = (await svc.admin("GET", `/api/v1/currents/${id}/attempts`)).body.attempts as Array<{ events: number; outcome: string }>;
    expect(attempts.reduce((n, a) => n + (a.outcome === "delivered" ? a.events : 0), 0)).toBe(7);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toContain(`currents_events_delivered_total{current="${id}"} 7`);
  });

  it("Amplitude: the events its 400 names are dead letters and the rest is sent again; its throttled users wait alone", async () => {
    // A window long enough that "hot" is still over its rate when its next batch comes, even on a busy machine.
    const amp = await fakeAmplitude({ apiKey: "amp-key-0123456789abcdef", perUser: 5, windowMs: 4_000 });
    cleanup.push(() => amp.close());
    const { svc, current, letters } = await launch("amplitude", { apiKey: "amp-key-0123456789abcdef", baseUrl: amp.url, throttleHoldSeconds: 1 });
    const sentEvents = [...Array.from({ length: 9 }, (_, i) => event(`a-${i}`, `user-${i % 3}`)), event("bad-1", "anonymous")];
    await svc.ingest(sentEvents);
    await waitFor(async () => (await current()).stats.delivered === 9 && (await current()).stats.deadLettered === 1, 10_000, "9 delivered and 1 dead letter");
    expect([...amp.events.keys()].sort()).toEqual(Array.from({ length: 9 }, (_, i) => `a-${i}`).sort());
    expect((await letters())[0]).toMatchObject({ reason: "refused by Amplitude (400): invalid user_id", event: { id: "bad-1" } });
    const sent = amp.events.get("a-0") as Record<string, unknown>;
    expect(sent).toMatchObject({ user_id: "user-0", event_type: "Email Open", insert_id: "a-0" });
    // The event's own time (a sample made again now could fall in the next second on a busy machine).
    expect(sent.time).toBe(Number((sentEvents[0] as { time?: number }).time) * 1000);

    // "hot" goes over its rate; the next batch holds its events back alone, the others land at once.
    await svc.ingest(Array.from({ length: 6 }, (_, i) => event(`hot-${i}`, "hot")));
    await waitFor(() => amp.events.has("hot-5"));
    await svc.ingest([event("hot-late", "hot"), ...Array.from({ length: 4 }, (_, i) => event(`cool-${i}`, `cool-${i}`))]);
    await waitFor(() => amp.events.has("cool-3"), 5_000);
    expect(amp.events.has("hot-late")).toBe(false); // still waiting while the others landed
    await waitFor(() => amp.events.has("hot-late"), 20_000);
    const attempts = (await svc.admin("GET", `/api/v1/currents/${(await current()).id}/attempts`)).body.attempts as Array<{ outcome: string }>;
    expect(attempts.some((a) => a.outcome.startsWith("partial"))).toBe(true);
  });

  it("Amplitude: a refused API key makes the Current failing instead of dead-lettering everything", async () => {
    const amp = await fakeAmplitude({ apiKey: "the-right-key-0123456789" });
    cleanup.push(() => amp.close());
    const { svc, current } = await launch("amplitude", { apiKey: "a-wrong-key-0123456789", baseUrl: amp.url });
    await svc.ingest([event("k-1", "u1")]);
    await waitFor(async () => (await current()).status === "failing");
    expect((await current()).stats).toMatchObject({ deadLettered: 0, pending: 1 });
  });

  it("Mixpanel: its failed_records are dead letters, the rest was imported and is never sent again", async () => {
    const mp = await fakeMixpanel({ projectId: "123456", token: "mp-token-0123456789abcdef" });
    cleanup.push(() => mp.close());
    const { svc, current, letters } = await launch("mixpanel", { projectId: "123456", projectToken: "mp-token-0123456789abcdef", baseUrl: mp.url });
    await svc.ingest([...Array.from({ length: 8 }, (_, i) => event(`m-${i}`, `user-${i}`)), event("m-deep", "user-x", { a: { b: { c: { d: 1 } } } }), event("m-anon", "anon")]);
    await waitFor(async () => (await current()).stats.delivered === 8 && (await current()).stats.deadLettered === 2, 10_000);
    expect(mp.imports()).toBe(8); // each valid event imported once: the 400 was not a reason to send them again
    const reasons = Object.fromEntries((await letters()).map((l) => [l.event.id, l.reason]));
    expect(reasons).toEqual({
      "m-deep": "refused by Mixpanel (400): properties: properties are nested more than 3 levels deep",
      "m-anon": 'Mixpanel refuses the placeholder distinct_id "anon"', // known before sending: never sent
    });
    expect(mp.imported.get("m-3")).toMatchObject({ event: "Email Open", properties: { distinct_id: "user-3", currents_event_type: OPEN } });
    const wrong = await svc.admin("POST", "/api/v1/currents", { name: "x", partner: "mixpanel", settings: { projectId: "1" }, events: [OPEN] });
    expect(wrong.body.error).toMatchObject({ field: "settings.projectToken" });
  });

  it("Segment: what it would drop with a 200 is dead-lettered here, with the reason; the rest arrives", async () => {
    const seg = await fakeSegment({ writeKey: "seg-write-key-0123456789" });
    cleanup.push(() => seg.close());
    const { svc, current, letters } = await launch("segment", { writeKey: "seg-write-key-0123456789", baseUrl: seg.url });
    await svc.ingest([...Array.from({ length: 5 }, (_, i) => event(`s-${i}`, `user-${i}`)), event("s-big", "user-9", { blob: "x".repeat(40_000) })]);
    await waitFor(async () => (await current()).stats.delivered === 5 && (await current()).stats.deadLettered === 1, 10_000);
    expect(seg.dropped()).toBe(0);
    expect([...seg.received.keys()].sort()).toEqual(["s-0", "s-1", "s-2", "s-3", "s-4"]);
    expect((await letters())[0]?.reason).toMatch(/^Segment would drop it: \d+ bytes, over Segment's 32 KB per event$/);
    expect(seg.received.get("s-1")).toMatchObject({ type: "track", userId: "user-1", event: "Email Open", messageId: "s-1" });
  });

  it("all four stream a simulated workload, every event accounted for (delivered or dead-lettered with a reason)", async () => {
    const amp = await fakeAmplitude({ apiKey: "amp-key-0123456789abcdef" });
    const mp = await fakeMixpanel({ projectId: "123456", token: "mp-token-0123456789abcdef" });
    const seg = await fakeSegment({ writeKey: "seg-write-key-0123456789" });
    const dir = tempDir("currents-sim-avro-");
    cleanup.push(() => amp.close(), () => mp.close(), () => seg.close(), () => rmSync(dir, { recursive: true, force: true }));
    const svc: Service = await startService({ app: { retryPolicy: fastRetries } });
    cleanup.push(() => svc.close());
    const all = allEventTypes().filter((t) => t.status !== "deprecated").map((t) => t.type);
    const ids: Record<string, string> = {};
    for (const [partner, settings] of Object.entries({
      amplitude: { apiKey: "amp-key-0123456789abcdef", baseUrl: amp.url },
      mixpanel: { projectId: "123456", projectToken: "mp-token-0123456789abcdef", baseUrl: mp.url },
      segment: { writeKey: "seg-write-key-0123456789", baseUrl: seg.url },
      storage: { directory: dir, flushSeconds: 1 },
    })) {
      const c = await svc.admin("POST", "/api/v1/currents", { name: partner, partner, settings, events: all, batching: { lingerMs: 50 } });
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      ids[partner] = c.body.id as string;
      await svc.admin("POST", `/api/v1/currents/${c.body.id}/launch`);
    }
    const r = await produce({ url: svc.url, key: INGEST, rate: 300, durationSeconds: 2, seed: 11 });
    expect(r.accepted).toBeGreaterThan(300);
    const stored = r.accepted - r.duplicates;
    for (const [partner, id] of Object.entries(ids)) {
      await waitFor(async () => {
        const s = (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats;
        return s.pending === 0 && s.delivered + s.deadLettered === stored;
      }, 30_000, `${partner}: every event delivered or dead-lettered`);
    }
    expect(amp.events.size).toBe((await svc.admin("GET", `/api/v1/currents/${ids.amplitude}`)).body.stats.delivered);
    expect(seg.dropped()).toBe(0);
  }, 60_000);
});

