import { describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { closedAfterEach, launchCurrent, waitFor } from "../support/harness.js";

const use = closedAfterEach();
const TYPE = "users.messages.email.Send";
const events = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => sampleEvent(TYPE, { id: `${prefix}-${i}` }));

describe("fresh at every rate (a pipelined producer)", () => {
  it("sends at once while a request slot is free, whatever lingerMs says; batches fill while every slot is busy", async () => {
    let hold = true;
    const receiver = await use.receiver(() => ({ answer: (res) => {
      // The first batch's answer is held until the test lets it go: the only slot stays busy.
      const send = () => res.writeHead(200, { "content-type": "application/json" }).end("{}");
      if (!hold) return send();
      const timer = setInterval(() => { if (!hold) { clearInterval(timer); send(); } }, 10);
    } }));
    // A minute of linger: waiting for it would fail the test.
    const svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, [TYPE], { partner: "custom_http", settings: { endpoint: receiver.url }, batching: { maxBatchEvents: 100, maxInFlight: 1, lingerMs: 60_000 } });
    await svc.ingest(events(1, "lone"));
    await waitFor(() => receiver.requests.length === 1, 10_000, "the lone event sent at once");
    expect(receiver.requests[0]?.events.map((e) => e.id)).toEqual(["lone-0"]);
    // While its answer is held, 5 requests of 10 events arrive: they wait for the slot, together.
    for (let i = 0; i < 5; i++) expect((await svc.ingest(events(10, `busy${i}`))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.requests).toHaveLength(1);
    hold = false;
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered === 51, 10_000, "all delivered");
    expect(receiver.requests.map((r) => r.events.length)).toEqual([1, 50]);
  });

  it("with fill, a Current asks for fuller batches: a lone event waits up to lingerMs while the slot is free", async () => {
    const receiver = await use.receiver();
    const svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, [TYPE], { partner: "custom_http", settings: { endpoint: receiver.url }, batching: { fill: true, lingerMs: 1_500, maxBatchEvents: 100 } });
    await svc.ingest(events(1, "a"));
    await new Promise((r) => setTimeout(r, 300));
    await svc.ingest(events(1, "b"));
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered === 2, 10_000, "both delivered");
    expect(receiver.requests.map((r) => r.events.length)).toEqual([2]);
    expect((await svc.admin("GET", `/api/v1/currents/${id}`)).body.batching).toMatchObject({ fill: true, lingerMs: 1_500 });
    expect((await svc.admin("PATCH", `/api/v1/currents/${id}`, { batching: { fill: "yes" } })).status).toBe(400);
  });
});
