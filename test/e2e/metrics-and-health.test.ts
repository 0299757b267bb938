import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { type Service, launchCurrent, startService, waitFor } from "../support/harness.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

let svc: Service | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await svc?.close();
  await receiver?.close();
});

/** Parses Prometheus text: every sample line is `name{labels} value`. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|Nan|\+Inf|-Inf)$/.exec(line);
    if (!m) throw new Error(`not Prometheus text: ${line}`);
    out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

describe("/metrics, /healthz, /readyz", () => {
  it("serve Prometheus text that moves when events flow, and health answers", async () => {
    receiver = await startReceiver();
    svc = await startService();
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${svc.url}/readyz`);
    expect(await ready.json()).toEqual({ status: "ready", store: "sqlite" });
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"]);
    await svc.ingest([...Array.from({ length: 25 }, () => sampleEvent("users.messages.email.Send")), { bad: true }]);
    await waitFor(() => receiver!.events().length === 25);
    await waitFor(async () => samples(await (await fetch(`${svc!.url}/metrics`)).text()).get(`currents_events_delivered_total{current="${id}"}`) === 25);
    const m = samples(await (await fetch(`${svc.url}/metrics`)).text());
    expect(m.get('currents_ingest_events_total{outcome="stored"}')).toBe(25);
    expect(m.get('currents_ingest_events_total{outcome="rejected"}')).toBe(1);
    expect(m.get(`currents_attempts_total{current="${id}",outcome="delivered"}`)).toBeGreaterThan(0);
    expect(m.get(`currents_backlog_events{current="${id}"}`)).toBe(0);
    expect(m.get("currents_store_bytes")).toBeGreaterThan(0);
    expect(m.get(`currents_dead_letters{current="${id}"}`)).toBe(0);
    expect([...m.keys()].some((k) => k.startsWith("currents_batch_latency_seconds_bucket"))).toBe(true);
  });

  it("keeps a per-minute series for the charts, and delivered (24 h)", async () => {
    receiver = await startReceiver();
    svc = await startService({ app: { seriesFlushMs: 100 } });
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"]);
    await svc.ingest(Array.from({ length: 12 }, () => sampleEvent("users.messages.email.Send")));
    await waitFor(async () => (await svc!.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered24h === 12);
    const series = (await svc.admin("GET", `/api/v1/currents/${id}/series?window=hour`)).body;
    expect(series.window).toBe("hour");
    const total = series.points.reduce((n: number, p: { delivered: number }) => n + p.delivered, 0);
    expect(total).toBe(12);
    const last = series.points[series.points.length - 1];
    expect(last).toMatchObject({ backlog: 0, failed: 0 });
    expect(last.p50Ms).toBeGreaterThan(0);
    expect(last.p50Ms).toBeLessThanOrEqual(last.p99Ms);
    expect((await svc.admin("GET", `/api/v1/currents/${id}/series?window=week`)).status).toBe(400);
  });

  it("serves an OpenAPI 3.1 document at /api/docs listing every route, generated from the validating schemas", async () => {
    svc = await startService();
    const doc = (await (await fetch(`${svc.url}/api/docs/json`)).json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>> };
    expect(doc.openapi).toBe("3.1.0");
    const routes: Array<[string, string]> = [
      ["post", "/v1/events"], ["get", "/healthz"], ["get", "/readyz"], ["get", "/metrics"],
      ["get", "/api/v1/event-types"], ["get", "/api/v1/partners"], ["post", "/api/v1/partners/{id}/check"], ["get", "/api/v1/workspaces"],
      ["get", "/api/v1/currents"], ["post", "/api/v1/currents"], ["get", "/api/v1/currents/{id}"], ["patch", "/api/v1/currents/{id}"], ["delete", "/api/v1/currents/{id}"],
      ["post", "/api/v1/currents/{id}/launch"], ["post", "/api/v1/currents/{id}/pause"], ["post", "/api/v1/currents/{id}/resume"], ["post", "/api/v1/currents/{id}/test"],
      ["get", "/api/v1/currents/{id}/attempts"], ["get", "/api/v1/currents/{id}/dead-letters"], ["post", "/api/v1/currents/{id}/dead-letters/redrive"],
      ["post", "/api/v1/currents/{id}/dead-letters/discard"], ["post", "/api/v1/currents/{id}/replay"], ["get", "/api/v1/currents/{id}/series"],
      ["get", "/api/v1/currents/{id}/history"], ["post", "/api/v1/ingest-keys"], ["get", "/api/v1/ingest-keys"], ["delete", "/api/v1/ingest-keys/{id}"],
      ["post", "/api/v1/session"], ["get", "/api/v1/session"], ["delete", "/api/v1/session"], ["get", "/api/v1/audit"], ["get", "/api/v1/cluster"],
    ];
    for (const [method, path] of routes) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    const create = doc.paths["/api/v1/currents"]?.post?.requestBody?.content["application/json"]?.schema;
    expect(Object.keys(create?.properties ?? {})).toEqual(expect.arrayContaining(["name", "partner", "settings", "events", "transformations"]));
    const page = await fetch(`${svc.url}/api/docs/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/swagger/i);
  });

  it("logs JSON lines carrying the request id that the answer also carries", async () => {
    let logs = "";
    const sink = new Writable({ write(chunk, _e, done) { logs += chunk.toString(); done(); } });
    svc = await startService({ app: { logger: pino({ level: "debug" }, sink) } });
    const res = await fetch(`${svc.url}/api/v1/currents/missing`, { headers: { authorization: "Bearer test-admin-token-0123456789" } });
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const lines = logs.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.some((l) => l.reqId === requestId && l.status === 404 && l.url === "/api/v1/currents/missing")).toBe(true);
  });

  it("refuses the admin API without the admin token, and with an ingest key", async () => {
    svc = await startService();
    expect((await svc.call("GET", "/api/v1/currents", undefined, "wrong")).status).toBe(401);
    expect((await svc.call("GET", "/api/v1/currents", undefined, "test-ingest-key-0123456789")).status).toBe(401);
    const noHeader = await fetch(`${svc.url}/api/v1/currents`);
    expect(noHeader.status).toBe(401);
    expect(await noHeader.text()).toMatch(/admin token/);
  });
});
