import { afterEach, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import type { RetryPolicy } from "../../src/delivery/retry-policy.js";
import { type Behaviour, type ReceivedRequest, type Receiver, startReceiver } from "../support/receiver.js";
import { type Service, launchCurrent, startService, waitFor } from "../support/harness.js";

const fastRetries: RetryPolicy = { baseDelayMs: 20, maxDelayMs: 200, multiplier: 2, jitterRatio: 0.2, maxRetryAfterMs: 3_600_000 };
const TYPE = "users.messages.email.Delivery";
const events = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => sampleEvent(TYPE, { id: `${prefix}-${i}`, n: i }));

let svc: Service | undefined;
const receivers: Receiver[] = [];
afterEach(async () => {
  await svc?.close();
  for (const r of receivers.splice(0)) await r.close();
  svc = undefined;
});

async function setup(respond: (req: ReceivedRequest, index: number) => Behaviour, batching: Record<string, number> = {}) {
  const receiver = await startReceiver(respond);
  receivers.push(receiver);
  svc = await startService({ app: { retryPolicy: fastRetries } });
  const id = await launchCurrent(svc, receiver.url, [TYPE], { batching: { lingerMs: 20, ...batching } });
  return { receiver, id, svc };
}

/** Ids the receiver answered 2xx for. */
const deliveredIds = (r: Receiver, ok: (req: ReceivedRequest, i: number) => boolean) => new Set(r.acceptedEvents(ok).map((e) => e.id));

describe("outcome of every attempt", () => {
  it.each([
    ["5xx", { status: 503 }],
    ["408", { status: 408 }],
    ["an unlisted code", { status: 418 }],
    ["a reset connection", { reset: true }],
  ] as Array<[string, Behaviour]>)("retries the same batch after %s and then delivers it", async (_what, failure) => {
    const { receiver, id, svc } = await setup((_r, i) => (i < 2 ? failure : { status: 200 }));
    await svc.ingest(events(10, "a"));
    await waitFor(() => receiver.requests.length >= 3);
    const [first, second, third] = receiver.requests;
    expect(second?.headers["idempotency-key"]).toBe(first?.headers["idempotency-key"]);
    expect(third?.headers["idempotency-key"]).toBe(first?.headers["idempotency-key"]);
    expect(third?.raw).toBe(first?.raw);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered === 10);
    const stats = (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats;
    expect(stats).toMatchObject({ failedAttempts: 2, pending: 0, deadLettered: 0 });
    const attempts = (await svc.admin("GET", `/api/v1/currents/${id}/attempts`)).body.attempts;
    expect(attempts.map((a: { outcome: string }) => a.outcome)).toEqual(["delivered", "retry", "retry"]);
  });

  it("retries after a timeout", async () => {
    const { receiver, svc, id } = await setup((_r, i) => (i === 0 ? { hang: true } : { status: 200 }), { requestTimeoutMs: 300 });
    await svc.ingest(events(5, "t"));
    await waitFor(() => receiver.requests.length >= 2);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered === 5);
    const attempts = (await svc.admin("GET", `/api/v1/currents/${id}/attempts`)).body.attempts as Array<{ error: string | null }>;
    expect(attempts.some((a) => /timeout/.test(a.error ?? ""))).toBe(true);
    // The delivery that followed cleared the last error (it is shown while the Current is not recovered).
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.lastError === null, 5_000, "last error cleared");
  });

  it.each([
    ["delta seconds", () => "1"],
    ["an HTTP-date", () => new Date(Date.now() + 2_000).toUTCString()],
  ])("honours Retry-After on 429 given as %s", async (_form, retryAfter) => {
    const { receiver, svc } = await setup((_r, i) => (i === 0 ? { status: 429, headers: { "retry-after": retryAfter() } } : { status: 200 }));
    await svc.ingest(events(3, "r"));
    await waitFor(() => receiver.requests.length >= 2, 10_000);
    const gap = (receiver.requests[1] as ReceivedRequest).at - (receiver.requests[0] as ReceivedRequest).at;
    expect(gap).toBeGreaterThanOrEqual(950); // fast backoff would retry after ~20 ms
  });

  it("bisects a batch with one poison event: the event is dead-lettered, the other 99 are delivered", async () => {
    const isPoison = (e: Record<string, unknown>) => e.id === "p-57";
    const ok = (r: ReceivedRequest) => !r.events.some(isPoison);
    const { receiver, svc, id } = await setup((r) => (ok(r) ? { status: 200 } : { status: 400, body: '{"error":"bad field in p-57"}' }), { maxBatchEvents: 100, lingerMs: 500 });
    await svc.ingest(events(100, "p"));
    await waitFor(async () => {
      const { stats } = (await svc.admin("GET", `/api/v1/currents/${id}`)).body;
      return stats.deadLettered === 1 && stats.pending === 0;
    });
    const delivered = deliveredIds(receiver, ok);
    expect(delivered.size).toBe(99);
    expect(delivered.has("p-57")).toBe(false);
    const dl = (await svc.admin("GET", `/api/v1/currents/${id}/dead-letters`)).body;
    expect(dl.total).toBe(1);
    expect(dl.deadLetters[0]).toMatchObject({ status: 400, event: { id: "p-57" }, excerpt: expect.stringContaining("bad field") });
    expect((await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats).toMatchObject({ delivered: 99, pending: 0 });
  });

  it("halves batches on 413 until they fit, and dead-letters a single event still too large", async () => {
    const ok = (r: ReceivedRequest) => r.events.length <= 10 && r.raw.length < 50_000;
    const { receiver, svc, id } = await setup((r) => (ok(r) ? { status: 200 } : { status: 413 }), { maxBatchEvents: 80, lingerMs: 300 });
    const big = { ...sampleEvent(TYPE, { id: "huge" }), padding: "x".repeat(60_000) };
    await svc.ingest([...events(79, "h"), big]);
    await waitFor(async () => {
      const { stats } = (await svc.admin("GET", `/api/v1/currents/${id}`)).body;
      return stats.deadLettered === 1 && stats.pending === 0;
    });
    expect(deliveredIds(receiver, ok).size).toBe(79);
    const dl = (await svc.admin("GET", `/api/v1/currents/${id}/dead-letters`)).body;
    expect(dl.deadLetters[0]).toMatchObject({ status: 413, event: { id: "huge" } });
  });

  it("turns failing on 401, keeps buffering, and resumes when the token is fixed", async () => {
    const { receiver, svc, id } = await setup((r) => (r.headers.authorization === "Bearer good-partner-token-1234" ? { status: 200 } : { status: 401 }));
    await svc.ingest(events(20, "f"));
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.status === "failing");
    const failing = (await svc.admin("GET", `/api/v1/currents/${id}`)).body;
    expect(failing.statusReason).toMatch(/401/);
    expect(svc.app.services.engine.delivers(id)).toBe(false); // stopped sending: no worker
    const sentWhileFailing = receiver.requests.length;
    await svc.ingest(events(20, "g"));
    expect(receiver.requests.length).toBe(sentWhileFailing);
    expect((await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.pending).toBe(40);
    const updated = await svc.admin("PATCH", `/api/v1/currents/${id}`, { settings: { bearerToken: "good-partner-token-1234" } });
    expect(updated.body.status).toBe("active");
    expect(updated.body.settings.bearerToken).toBe("****1234");
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered === 40);
    const ok = (r: ReceivedRequest) => r.headers.authorization === "Bearer good-partner-token-1234";
    expect(deliveredIds(receiver, ok).size).toBe(40);
  });

  it("keeps up to maxInFlight batches in flight at once, and no more", async () => {
    // The partner answers nothing until three requests are open at once (so the sender must
    // reach three), then answers them all: a fourth open request would be seen.
    let inFlight = 0;
    let peak = 0;
    let held: Array<() => void> = [];
    const receiver = await startReceiver(() => ({
      answer: (res) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        held.push(() => { inFlight--; res.writeHead(200).end("{}"); });
        if (held.length >= 3) for (const answer of held.splice(0)) answer();
        else setTimeout(() => { for (const answer of held.splice(0)) answer(); }, 2_000); // the tail of the stream
      },
    }));
    receivers.push(receiver);
    svc = await startService();
    const id = await launchCurrent(svc, receiver.url, [TYPE], { batching: { lingerMs: 10, maxBatchEvents: 10, maxInFlight: 3 } });
    await svc.ingest(events(200, "c"));
    await waitFor(async () => (await svc!.admin("GET", `/api/v1/currents/${id}`)).body.stats.pending === 0, 20_000);
    expect(peak).toBe(3);
    expect(new Set(receiver.events().map((e) => e.id)).size).toBe(200);
    held = [];
  });

  it("isolates Currents: one hanging endpoint never delays another", async () => {
    const dead = await startReceiver(() => ({ hang: true }));
    const alive = await startReceiver();
    receivers.push(dead, alive);
    svc = await startService({ app: { retryPolicy: fastRetries } });
    await launchCurrent(svc, dead.url, [TYPE], { batching: { lingerMs: 20, requestTimeoutMs: 60_000 } });
    const liveId = await launchCurrent(svc, alive.url, [TYPE], { batching: { lingerMs: 20 } });
    for (let i = 0; i < 10; i++) await svc.ingest(events(100, `i${i}`));
    await waitFor(() => alive.events().length === 1000, 10_000, "the healthy Current to deliver everything");
    expect(dead.requests.length).toBeGreaterThan(0);
    expect(dead.requests.length).toBeLessThanOrEqual(4); // at most maxInFlight batches hang
    expect((await svc.admin("GET", `/api/v1/currents/${liveId}`)).body.stats.pending).toBe(0);
  });
});
