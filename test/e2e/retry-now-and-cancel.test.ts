import { describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { closedAfterEach, launchCurrent, waitFor } from "../support/harness.js";

const use = closedAfterEach();
const TYPE = "users.messages.email.Send";

describe("operator actions on a Current", () => {
  it("shows a Current waiting to retry (when, and the error with its time); Retry now sends at once; the error clears itself on recovery", async () => {
    let refuse = true;
    const receiver = await use.receiver(() => (refuse ? { status: 503, body: "maintenance", headers: { "retry-after": "3600" } } : { status: 200 }));
    const svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, [TYPE], { partner: "custom_http", settings: { endpoint: receiver.url } });
    expect((await svc.admin("POST", `/api/v1/currents/${id}/retry-now`)).status).toBe(202);
    await svc.ingest([sampleEvent(TYPE, { id: "e1" })]);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.retryingUntil !== null, 10_000, "retrying shown");
    const waiting = (await svc.admin("GET", `/api/v1/currents/${id}`)).body;
    expect(waiting.status).toBe("active");
    expect(Date.parse(waiting.stats.retryingUntil) - Date.now()).toBeGreaterThan(3_000_000); // the partner's Retry-After: an hour
    expect(waiting.stats.lastError).toMatch(/503/);
    expect(Date.parse(waiting.stats.lastErrorAt)).toBeGreaterThan(Date.now() - 60_000);
    refuse = false;
    expect((await svc.admin("POST", `/api/v1/currents/${id}/retry-now`)).body).toEqual({ retrying: true });
    await waitFor(() => receiver.requests.length >= 2, 10_000, "the retry sent at once");
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered === 1, 10_000, "delivered");
    const after = (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats;
    expect(after).toMatchObject({ retryingUntil: null, lastError: null, lastErrorAt: null });
    // Only an active Current retries.
    expect((await svc.admin("POST", `/api/v1/currents/${id}/pause`)).status).toBe(200);
    expect((await svc.admin("POST", `/api/v1/currents/${id}/retry-now`)).status).toBe(409);
  });

  it("cancels a running replay: what was sent stays sent, the rest is not sent, and it says cancelled", async () => {
    const receiver = await use.receiver(() => ({ delayMs: 300, status: 200 }));
    const svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, [TYPE], { partner: "custom_http", settings: { endpoint: receiver.url }, batching: { maxBatchEvents: 10 } });
    expect((await svc.admin("POST", `/api/v1/currents/${id}/job/cancel`)).status).toBe(409);
    await svc.ingest(Array.from({ length: 300 }, (_, i) => sampleEvent(TYPE, { id: `r${i}` })));
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered === 300, 30_000, "live delivery done");
    const live = receiver.requests.length;
    expect((await svc.admin("POST", `/api/v1/currents/${id}/replay`, { from: "2020-01-01T00:00:00Z" })).status).toBe(202);
    await waitFor(() => receiver.requests.length >= live + 2, 10_000, "the replay under way");
    const cancelled = await svc.admin("POST", `/api/v1/currents/${id}/job/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.job).toMatchObject({ kind: "replay", state: "stopped", detail: "cancelled" });
    await new Promise((r) => setTimeout(r, 1_000));
    const sentByReplay = receiver.requests.length - live;
    expect(sentByReplay).toBeLessThan(30);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(receiver.requests.length - live).toBe(sentByReplay); // nothing more after the cancel
    expect((await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.job).toMatchObject({ state: "stopped", detail: "cancelled" });
    expect((await svc.admin("POST", `/api/v1/currents/${id}/job/cancel`)).status).toBe(409);
  });

  it("counts the events delivered by type over the last hour and day; events the partner refused are not counted", async () => {
    const receiver = await use.receiver((r) => (r.events.some((e) => e.id === "bad") ? { status: 400 } : { status: 200 }));
    const svc = await use.service({ app: { seriesFlushMs: 200 } });
    const types = ["users.messages.email.Send", "users.messages.email.Open", "users.behaviors.CustomEvent"];
    const id = await launchCurrent(svc, receiver.url, types, { partner: "custom_http", settings: { endpoint: receiver.url } });
    const events = [
      ...Array.from({ length: 30 }, (_, i) => sampleEvent(types[0] as string, { id: `s${i}` })),
      ...Array.from({ length: 12 }, (_, i) => sampleEvent(types[1] as string, { id: `o${i}` })),
      ...Array.from({ length: 5 }, (_, i) => sampleEvent(types[2] as string, { id: `c${i}` })),
      sampleEvent(types[1] as string, { id: "bad" }),
    ];
    expect((await svc.ingest(events)).status).toBe(200);
    const want = [{ type: types[0], delivered: 30 }, { type: types[1], delivered: 12 }, { type: types[2], delivered: 5 }];
    await waitFor(async () => JSON.stringify((await svc.admin("GET", `/api/v1/currents/${id}/volume?window=hour`)).body.types) === JSON.stringify(want), 15_000, "volume by type");
    expect((await svc.admin("GET", `/api/v1/currents/${id}/volume`)).body).toEqual({ window: "hour", types: want });
    expect((await svc.admin("GET", `/api/v1/currents/${id}/volume?window=day`)).body.types).toEqual(want);
  });
});
