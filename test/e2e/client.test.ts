import { spawnSync } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { validateEvent } from "../../src/catalog/validate-event.js";
import { type CatalogEvent, CurrentsClient, CurrentsClientError, QueueFullError } from "../../src/client/index.js";
import { INGEST, type Service, launchCurrent, startService, waitFor } from "../support/harness.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(config: Record<string, unknown> = {}) {
  const receiver: Receiver = await startReceiver();
  const svc: Service = await startService({ config });
  cleanup.push(() => receiver.close(), () => svc.close());
  await launchCurrent(svc, receiver.url, ["users.messages.email.Open", "users.behaviors.Purchase", "users.messages.sms.Delivery"]);
  return { receiver, svc };
}

/** A proxy in front of Currents that answers the first `failures` requests itself (503, 507, 429...). */
async function flakyProxy(target: string, failures: Array<{ status: number; retryAfter?: string } | "reset">) {
  let n = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const f = failures[n++];
      if (f === "reset") return void req.socket.destroy();
      if (f) return void res.writeHead(f.status, { "content-type": "application/json", ...(f.retryAfter ? { "retry-after": f.retryAfter } : {}) }).end('{"error":{"code":"x","message":"not now"}}');
      const pass = Object.fromEntries(["authorization", "content-type", "content-encoding"].filter((h) => req.headers[h]).map((h) => [h, String(req.headers[h])]));
      void fetch(`${target}${req.url}`, { method: "POST", headers: pass, body: Buffer.concat(chunks) }).then(async (r) => {
        res.writeHead(r.status, { "content-type": "application/json" }).end(Buffer.from(await r.arrayBuffer()));
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => n };
}

describe("the typed Node client (currents/client)", () => {
  it("sends typed events through builders and send(), filling ids and times, batched and gzipped", async () => {
    const { receiver, svc } = await setup();
    const client = new CurrentsClient({ url: svc.url, ingestKey: INGEST, maxBatchEvents: 50 });
    client.track.email.open({ user: { user_id: "u-1" }, properties: { email_address: "ada@example.com", campaign_id: "c-1" } });
    client.track.behaviors.purchase({ user: { user_id: "u-1" }, properties: { product_id: "sku-1", price: 9.5, currency: "EUR" } });
    const many: CatalogEvent[] = Array.from({ length: 120 }, (_, i) => ({ event_type: "users.messages.sms.Delivery", id: `sms-${i}`, user: { user_id: `u-${i}` }, properties: { to_phone_number: "+14155550100" } } as CatalogEvent));
    client.send(many);
    const result = await client.close();
    expect(result).toMatchObject({ accepted: 122, duplicates: 0, rejected: [] });
    await waitFor(() => receiver.events().length === 122);
    for (const e of receiver.events()) expect(validateEvent(e).ok).toBe(true);
    const open = receiver.events().find((e) => e.event_type === "users.messages.email.Open");
    expect(open?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Math.abs(Number(open?.time) - Date.now() / 1000)).toBeLessThan(60);
    expect(() => client.send(many)).toThrow(/closed/);
    // The compiler checks each type's fields (npm test type-checks this file; the lines are never run).
    const typeChecks = (c: CurrentsClient) => {
      // @ts-expect-error email_address is required for an email open
      c.track.email.open({ user: { user_id: "u" }, properties: {} });
      // @ts-expect-error no such event type
      c.send({ event_type: "users.messages.email.Opened" });
      // @ts-expect-error price is a number
      c.track.behaviors.purchase({ user: { user_id: "u" }, properties: { product_id: "p", price: "9.50", currency: "EUR" } });
    };
    expect(typeChecks).toBeTypeOf("function");
  });

  it("retries 503, 507, 429 with Retry-After and a reset connection, then delivers; refused events are listed", async () => {
    const { receiver, svc } = await setup();
    const proxy = await flakyProxy(svc.url, [{ status: 503, retryAfter: "1" }, { status: 507 }, "reset", { status: 429, retryAfter: "0" }]);
    const client = new CurrentsClient({ url: proxy.url, ingestKey: INGEST, baseDelayMs: 20, gzip: false });
    client.send([
      { event_type: "users.messages.email.Open", id: "ok-1", user: { user_id: "u" }, properties: { email_address: "a@example.com" } },
      { event_type: "users.messages.email.Open", id: "bad-1", time: 1e12, user: { user_id: "u" }, properties: { email_address: "a@example.com" } },
    ]);
    const started = Date.now();
    const result = await client.flush();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // the Retry-After of 1 s was honoured
    expect(proxy.requests()).toBe(5);
    expect(result.accepted).toBe(1);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]).toMatchObject({ id: "bad-1", error: expect.stringMatching(/time/) });
    await waitFor(() => receiver.events().length === 1);
  });

  it("says clearly when its queue is full or the key is wrong, and keeps the events", async () => {
    const { svc } = await setup();
    const errors: CurrentsClientError[] = [];
    const client = new CurrentsClient({ url: svc.url, ingestKey: "wrong-key-0000000000", maxQueueEvents: 3, flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
    const e = { event_type: "users.messages.email.Open", user: { user_id: "u" }, properties: { email_address: "a@example.com" } } as const;
    client.send([e, e, e]);
    expect(() => client.send(e)).toThrow(QueueFullError);
    expect(() => client.send(e)).toThrow(/maxQueueEvents 3/);
    await expect(client.flush()).rejects.toThrow(/401/);
    expect(client.queued).toBe(3);
    expect(errors[0]?.status).toBe(401);
    expect(() => new CurrentsClient({ url: "currents.example.com", ingestKey: "k" })).toThrow(/url/);
  });

  it("is exported by the package as currents/client (the built one)", () => {
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", "import { CurrentsClient } from 'currents/client'; console.log(typeof CurrentsClient, Object.keys(new CurrentsClient({ url: 'http://127.0.0.1:1', ingestKey: 'k' }).track.email).length)"], { encoding: "utf8", cwd: fileURLToPath(new URL("../..", import.meta.url)) });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toMatch(/^function \d+$/);
  });
});
