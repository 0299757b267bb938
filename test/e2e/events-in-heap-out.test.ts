import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { allEventTypes } from "../../src/catalog/catalog.js";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { rawPost } from "../support/raw-post.js";
import type { Receiver } from "../support/receiver.js";
import { INGEST, type Service, closedAfterEach, launchCurrent, waitFor } from "../support/harness.js";

const byGroup = (g: string) => allEventTypes().filter((d) => d.group === g && d.status === "current").map((d) => d.type);
// 34 types across the three groups; the Current selects 17 of them, spread over all three.
const ingested = [...byGroup("message_engagement").slice(0, 24), ...byGroup("customer_behavior").slice(0, 7), ...byGroup("user").slice(0, 3)];
const selected = ingested.filter((_, i) => i % 2 === 0);

const use = closedAfterEach();
let svc: Service | undefined;
let receiver: Receiver | undefined;

describe("events in, Heap out", () => {
  it("delivers exactly the selected types, as ingested, in batches within the limits, with the wire headers", async () => {
    receiver = await use.receiver();
    svc = await use.service();
    // Accepted before the launch: never delivered.
    expect((await svc.ingest(selected.map((t) => sampleEvent(t, { id: `before-${t}` })))).body.accepted).toBe(selected.length);
    const id = await launchCurrent(svc, receiver.url, selected, { batching: { maxBatchEvents: 40 } });
    const sent: Record<string, unknown>[] = [];
    for (let round = 0; round < 10; round++) {
      const events = ingested.map((t, i) => sampleEvent(t, { id: `r${round}-${i}`, n: round * 100 + i }));
      const res = await svc.ingest(events);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ accepted: events.length, duplicates: 0, rejected: [], warnings: [] });
      sent.push(...events);
    }
    // Another workspace's events of the selected types never reach this Current.
    const key = await svc.admin("POST", "/api/v1/ingest-keys", { workspace: "other" });
    expect(key.status).toBe(201);
    expect((await svc.ingest(selected.map((t) => sampleEvent(t)), key.body.key)).body.accepted).toBe(selected.length);

    const expected = sent.filter((e) => selected.includes(e.event_type as string));
    // Nothing is left to send once the Current has nothing pending: what it delivered is all that arrives.
    await waitFor(async () => {
      const { stats } = (await svc!.admin("GET", `/api/v1/currents/${id}`)).body;
      return stats.pending === 0 && stats.delivered >= expected.length;
    }, 15_000, "all selected events");
    const got = receiver.events();
    expect(got.length).toBe(expected.length);
    const byId = new Map(got.map((e) => [e.id, e]));
    for (const e of expected) expect(byId.get(e.id)).toEqual(e);

    for (const r of receiver.requests) {
      expect(r.events.length).toBeGreaterThan(0);
      expect(r.events.length).toBeLessThanOrEqual(40);
      expect(r.headers["content-type"]).toBe("application/json");
      expect(r.headers.authorization).toBe("Bearer partner-token-abcd");
      expect(r.headers["braze-currents-version"]).toBe("1");
      expect(r.headers["user-agent"]).toMatch(/^currents\/\d+\.\d+\.\d+/);
      expect(r.headers["idempotency-key"]).toMatch(new RegExp(`^${id}:`));
    }
    const keys = receiver.requests.map((r) => r.headers["idempotency-key"]);
    expect(new Set(keys).size).toBe(keys.length);

    const current = await svc.admin("GET", `/api/v1/currents/${id}`);
    expect(current.body.stats).toMatchObject({ delivered: expected.length, pending: 0, lastError: null });
    expect(current.body.stats.lastDeliveredAt).toMatch(/^\d{4}-/);
  });

  it("sends no Authorization header when no bearer token is set", async () => {
    receiver = await use.receiver();
    svc = await use.service();
    const created = await svc.admin("POST", "/api/v1/currents", { name: "No token", partner: "custom_http", settings: { endpoint: receiver.url }, events: ["users.messages.email.Send"] });
    await svc.admin("POST", `/api/v1/currents/${created.body.id}/launch`);
    await svc.ingest([sampleEvent("users.messages.email.Send")]);
    await waitFor(() => receiver!.requests.length === 1);
    expect(receiver.requests[0]?.headers.authorization).toBeUndefined();
  });

  it("acknowledges a repeated id but stores and delivers it once", async () => {
    receiver = await use.receiver();
    svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, ["users.messages.pushnotification.Send"]);
    const e = sampleEvent("users.messages.pushnotification.Send", { id: "same-id" });
    expect((await svc.ingest([e, e])).body).toEqual({ accepted: 2, duplicates: 1, rejected: [], warnings: [] });
    expect((await svc.ingest([e])).body).toEqual({ accepted: 1, duplicates: 1, rejected: [], warnings: [] });
    await waitFor(async () => (await svc!.admin("GET", `/api/v1/currents/${id}`)).body.stats.pending === 0 && receiver!.events().length >= 1);
    expect(receiver.events().length).toBe(1);
    expect((await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered).toBe(1);
  });

  it("pauses without losing events and delivers the backlog on resume", async () => {
    receiver = await use.receiver();
    svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, ["users.messages.sms.Delivery"]);
    expect((await svc.admin("POST", `/api/v1/currents/${id}/pause`)).body.status).toBe("paused");
    expect(svc.app.services.engine.delivers(id)).toBe(false); // no worker: nothing can be sent
    const ingestedAt = Date.now();
    await svc.ingest(Array.from({ length: 50 }, (_, n) => sampleEvent("users.messages.sms.Delivery", { n })));
    expect(receiver.requests.length).toBe(0);
    const paused = await svc.admin("GET", `/api/v1/currents/${id}`);
    expect(paused.body.stats.pending).toBe(50);
    expect(paused.body.stats.oldestPendingAgeMs).toBeLessThanOrEqual(Date.now() - ingestedAt + 50);
    expect(paused.body.stats.oldestPendingAgeMs).not.toBeNull();
    expect((await svc.admin("POST", `/api/v1/currents/${id}/resume`)).body.status).toBe("active");
    await waitFor(() => receiver!.events().length === 50);
  });

  it("keeps its position across a restart in the middle of a stream", async () => {
    receiver = await use.receiver();
    svc = await use.service();
    const dataDir = svc.dataDir;
    const id = await launchCurrent(svc, receiver.url, ["users.behaviors.CustomEvent"]);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const batch = Array.from({ length: 50 }, (_, n) => sampleEvent("users.behaviors.CustomEvent", { id: `a${i}-${n}` }));
      ids.push(...batch.map((e) => e.id as string));
      await svc.ingest(batch);
    }
    await svc.app.close(); // graceful stop mid-stream
    svc = await use.service({ dataDir });
    for (let i = 0; i < 10; i++) {
      const batch = Array.from({ length: 50 }, (_, n) => sampleEvent("users.behaviors.CustomEvent", { id: `b${i}-${n}` }));
      ids.push(...batch.map((e) => e.id as string));
      await svc.ingest(batch);
    }
    await waitFor(() => new Set(receiver!.events().map((e) => e.id)).size === ids.length, 15_000, "every event after restart");
    expect(new Set(receiver.events().map((e) => e.id))).toEqual(new Set(ids));
    const stats = (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats;
    expect(stats.pending).toBe(0);
  });
});

describe("ingest answers", () => {
  it("rejects bad input with a 4xx naming the problem and keeps the valid events", async () => {
    svc = await use.service();
    const good = sampleEvent("users.messages.email.Open");
    const res = await svc.ingest([good, { event_type: "users.messages.email.Open", id: "bad-1", time: "1" }, "nope", { ...good, id: "big", properties: { ...(good.properties as object), blob: "x".repeat(950 * 1024) } },
      { ...good, id: "nul", properties: { ...(good.properties as object), note: "a\u0000b" } }, { ...good, id: "backslash-u0000-is-fine", properties: { ...(good.properties as object), note: "\\u0000" } }]);
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected).toEqual([
      { index: 1, id: "bad-1", error: expect.stringContaining("time: expected integer") },
      { index: 2, error: expect.stringContaining("JSON object") },
      { index: 3, id: "big", error: expect.stringContaining("at most 921600") },
      { index: 4, id: "nul", error: expect.stringContaining("NUL") },
    ]);

    const post = (body: string | Buffer, headers: Record<string, string> = {}, key = INGEST) =>
      rawPost(`${svc!.url}/v1/events`, body, { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers });
    const cases: Array<[() => Promise<{ status: number; text: string }>, number, RegExp]> = [
      [() => post("{not json"), 400, /JSON/i],
      [() => post("[]"), 400, /events/],
      [() => post('{"events": 3}'), 400, /array/],
      [() => post(JSON.stringify({ events: [good] }), {}, "wrong-key"), 401, /ingest key/],
      [() => post(JSON.stringify({ events: Array.from({ length: 1001 }, () => good) })), 413, /1000/],
      [() => post(Buffer.alloc(6 * 1024 * 1024, 32)), 413, /over the limit of 5242880 bytes/],
      [() => post('{"events":[],"__proto__":{"x":1}}'), 400, /proto/i],
      [() => post("not gzip", { "content-encoding": "gzip" }), 400, /gzip/],
      [() => post("{}", { "content-encoding": "br" }), 415, /br/],
      [() => post("{}", { "content-type": "text/plain" }), 415, /content-type|media/i],
    ];
    for (const [send, status, message] of cases) {
      const r = await send();
      expect(r.status, r.text).toBe(status);
      expect(r.text).toMatch(message);
    }
    // A gzip'd body is accepted; a gzip bomb over 5 MB uncompressed is refused.
    const gz = await post(gzipSync(JSON.stringify({ events: [sampleEvent("users.messages.email.Open")] })), { "content-encoding": "gzip" });
    expect(JSON.parse(gz.text)).toMatchObject({ accepted: 1 });
    const bomb = await post(gzipSync(Buffer.alloc(6 * 1024 * 1024, 32)), { "content-encoding": "gzip" });
    expect(bomb.status).toBe(413);
    // Nothing accepted was lost along the way.
    expect(await svc.app.services.store.events.size()).toBe(3);
  });

  it("answers 429 with Retry-After while more events than the backlog limit wait for an active Current", async () => {
    receiver = await use.receiver(() => ({ status: 503 })); // nothing is ever delivered
    svc = await use.service({ config: { maxBacklogEvents: 3 } });
    await launchCurrent(svc, receiver.url, ["users.messages.email.Send"]);
    const e = () => sampleEvent("users.messages.email.Send");
    expect((await svc.ingest([e(), e(), e()])).status).toBe(200);
    await waitFor(async () => (await svc!.ingest([e()])).status === 429, 5_000, "the backlog limit");
    const full = await svc.ingest([e()]);
    expect(full.status).toBe(429);
    expect(full.headers.get("retry-after")).toBe("5");
    expect(full.body.error.message).toMatch(/wait for this workspace's Currents, over the backlog limit of 3/);
  });
});
