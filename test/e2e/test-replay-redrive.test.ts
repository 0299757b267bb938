import { describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { REDACTED } from "../../src/delivery/transformations.js";
import { type Service, closedAfterEach, launchCurrent, waitFor } from "../support/harness.js";
import type { ReceivedRequest, Receiver } from "../support/receiver.js";

const use = closedAfterEach();
let svc: Service | undefined;
let receiver: Receiver | undefined;

const get = async (id: string) => (await svc!.admin("GET", `/api/v1/currents/${id}`)).body;

describe("Send Test Events", () => {
  it("sends one marked sample of each selected type, transformed, and answers with the partner's status and latency", async () => {
    receiver = await use.receiver();
    svc = await use.service();
    const types = ["users.messages.email.Send", "users.behaviors.Purchase", "users.behaviors.subscription.GlobalStateChange"];
    const id = await launchCurrent(svc, receiver.url, types, { transformations: [{ field: "email_address", action: "remove" }] });
    const res = await svc.admin("POST", `/api/v1/currents/${id}/test`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, events: 3, status: 200 });
    expect(res.body.latencyMs).toBeGreaterThan(0);
    const got = receiver.events();
    expect(got.map((e) => e.event_type).sort()).toEqual([...types].sort());
    for (const e of got) {
      expect(e.id).toMatch(/^currents-test-/);
      expect((e.properties as Record<string, unknown>).currents_test_event).toBe(true);
    }
    const email = got.find((e) => e.event_type === "users.messages.email.Send");
    expect((email?.properties as Record<string, unknown>).email_address).toBe(REDACTED);
    // Test events are not counted as delivered events.
    expect((await get(id)).stats.delivered).toBe(0);
  });

  it("reports a refusal in words", async () => {
    receiver = await use.receiver(() => ({ status: 401, body: "bad token" }));
    svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"]);
    const res = await svc.admin("POST", `/api/v1/currents/${id}/test`);
    expect(res.body).toMatchObject({ ok: false, status: 401, response: "bad token" });
  });
});

describe("field transformations", () => {
  it("hashes and removes PII in delivered events", async () => {
    receiver = await use.receiver();
    svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Open"], {
      transformations: [{ field: "email_address", action: "hash" }, { field: "user_agent", action: "remove" }],
    });
    const e = sampleEvent("users.messages.email.Open", { id: "pii-1" });
    (e.properties as Record<string, unknown>).email_address = "Ada@Example.com";
    await svc.ingest([e]);
    await waitFor(() => receiver!.events().length === 1);
    const got = receiver.events()[0]?.properties as Record<string, unknown>;
    // sha256("Ada@Example.com")
    expect(got.email_address).toBe("1aa1bf07b50d24a304252acef11b05379c3c93ef87e26803192386b6c65b8bfc"); // computed with sha256sum
    expect(got.user_agent).toBe(REDACTED);
    expect((await get(id)).transformations).toHaveLength(2);
  });
});

describe("replay", () => {
  it("re-sends the retained events of a time range with the same ids, with progress", async () => {
    receiver = await use.receiver();
    svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, ["users.messages.sms.Send"]);
    const from = new Date().toISOString();
    for (let i = 0; i < 3; i++) await svc.ingest(Array.from({ length: 40 }, (_, n) => sampleEvent("users.messages.sms.Send", { id: `s${i}-${n}` })));
    await waitFor(() => receiver!.events().length === 120);
    const res = await svc.admin("POST", `/api/v1/currents/${id}/replay`, { from, to: new Date().toISOString() });
    expect(res.status).toBe(202);
    expect(res.body.replay).toMatchObject({ kind: "replay", state: "running", total: 120 });
    await waitFor(async () => (await get(id)).stats.job?.state === "done");
    expect((await get(id)).stats.job).toMatchObject({ kind: "replay", total: 120, sent: 120 });
    const all = receiver.events().map((e) => e.id as string);
    expect(all.length).toBe(240);
    expect(new Set(all).size).toBe(120);
    const keys = receiver.requests.map((r) => r.headers["idempotency-key"] as string);
    expect(keys.filter((k) => k.includes(":replay-")).length).toBeGreaterThan(0);

    expect((await svc.admin("POST", `/api/v1/currents/${id}/replay`, { from: "yesterday-ish" })).status).toBe(400);
    expect((await svc.admin("POST", `/api/v1/currents/${id}/replay`, { from: 2_000_000_000, to: 1_000_000_000 })).status).toBe(400);
  });
});

describe("dead letters", () => {
  it("redrives all or chosen dead letters, and discards chosen ones", async () => {
    let accept = false;
    const delivered = new Set<unknown>();
    const poison = (r: ReceivedRequest) => r.events.some((e) => String(e.id).startsWith("bad"));
    receiver = await use.receiver((r) => {
      if (!accept && poison(r)) return { status: 422, body: "unprocessable" };
      for (const e of r.events) delivered.add(e.id);
      return { status: 200 };
    });
    svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Bounce"], { batching: { lingerMs: 200 } });
    await svc.ingest([
      ...Array.from({ length: 20 }, (_, n) => sampleEvent("users.messages.email.Bounce", { id: `ok-${n}` })),
      ...Array.from({ length: 3 }, (_, n) => sampleEvent("users.messages.email.Bounce", { id: `bad-${n}` })),
    ]);
    await waitFor(async () => (await get(id)).stats.deadLettered === 3 && (await get(id)).stats.pending === 0);
    const letters = (await svc.admin("GET", `/api/v1/currents/${id}/dead-letters`)).body.deadLetters as Array<{ id: number; event: { id: string }; status: number; reason: string }>;
    expect(letters.map((l) => l.event.id).sort()).toEqual(["bad-0", "bad-1", "bad-2"]);
    expect(letters[0]).toMatchObject({ status: 422, reason: expect.stringContaining("422") });

    // Discard one, redrive one that is still refused, then redrive the rest once the partner accepts.
    expect((await svc.admin("POST", `/api/v1/currents/${id}/dead-letters/discard`, { ids: [letters[0]!.id] })).body).toEqual({ discarded: 1 });
    const r1 = await svc.admin("POST", `/api/v1/currents/${id}/dead-letters/redrive`, { ids: [letters[1]!.id] });
    expect(r1.status).toBe(202);
    await waitFor(async () => (await get(id)).stats.job?.state === "done");
    expect((await get(id)).stats.deadLettered).toBe(2); // refused again: still a dead letter
    accept = true;
    await svc.admin("POST", `/api/v1/currents/${id}/dead-letters/redrive`, {});
    await waitFor(async () => (await get(id)).stats.job?.state === "done" && (await get(id)).stats.deadLettered === 0);
    expect(delivered.has("bad-0")).toBe(false); // discarded
    expect(delivered.has("bad-1")).toBe(true);
    expect(delivered.has("bad-2")).toBe(true);
    expect(delivered.size).toBe(22);
    expect((await get(id)).stats.deadLetteredTotal).toBe(4); // 3, and bad-1 refused again once
  });
});
