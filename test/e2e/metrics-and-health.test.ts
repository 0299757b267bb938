import { spawnSync } from "node:child_process";
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

/** promtool from Debian's prometheus package (.ci/run installs it): absent locally, it skips with a message; under CI it must be there. */
function promtool(text: string): { ran: boolean; status: number | null; output: string } {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (r.error) {
    if (process.env.CI) throw new Error("promtool is missing (apt-get install prometheus): the metrics check cannot run");
    console.warn("promtool not installed (apt-get install prometheus): the promtool check is skipped here");
    return { ran: false, status: null, output: "" };
  }
  return { ran: true, status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe("/metrics, /healthz, /readyz", () => {
  it("pass promtool check metrics on a real scrape, with status, info, build, HTTP and freshness series; a deleted Current's series go; test events are not deliveries", async () => {
    receiver = await startReceiver();
    svc = await startService({ config: { maxBacklogEvents: 1_000_000 } });
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"]);
    const gone = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"]);
    await svc.ingest(Array.from({ length: 10 }, () => sampleEvent("users.messages.email.Send")));
    await svc.ingest([sampleEvent("users.messages.email.Send")], "not-a-key"); // 401, refused whole
    await waitFor(async () => samples(await (await fetch(`${svc!.url}/metrics`)).text()).get(`currents_events_delivered_total{current="${gone}"}`) === 10);
    const before = samples(await (await fetch(`${svc.url}/metrics`)).text()).get(`currents_attempts_total{current="${id}",outcome="delivered"}`);
    expect((await svc.admin("POST", `/api/v1/currents/${id}/test`)).body.ok).toBe(true);
    expect((await svc.admin("DELETE", `/api/v1/currents/${gone}`)).status).toBe(204);
    const text = await (await fetch(`${svc.url}/metrics`)).text();
    const m = samples(text);
    expect(m.get(`currents_attempts_total{current="${id}",outcome="delivered"}`)).toBe(before);
    expect(m.get(`currents_attempts_total{current="${id}",outcome="test"}`)).toBeUndefined();
    expect([...m.keys()].filter((k) => k.includes(gone))).toEqual([]);
    expect(m.get(`currents_current_status{current="${id}",status="active"}`)).toBe(1);
    expect(m.get(`currents_current_status{current="${id}",status="failing"}`)).toBe(0);
    expect(m.get(`currents_current_info{current="${id}",name="Test export",partner="heap",workspace="default"}`)).toBe(1);
    expect([...m.keys()].some((k) => k.startsWith("currents_build_info{version="))).toBe(true);
    expect(m.get('currents_http_requests_total{route="/v1/events",method="POST",status="401"}')).toBe(1);
    expect(m.get(`currents_delivery_freshness_seconds_count{current="${id}"}`)).toBeGreaterThan(0);
    expect(text).not.toMatch(/currents_process_process_|_active_handles_total/);
    const check = promtool(text);
    if (check.ran) expect(check.output, check.output).toBe("");
    if (check.ran) expect(check.status).toBe(0);
  });

  it("adds up a minute's deliveries across a restart in the same minute (the chart and delivered (24 h) lose none)", async () => {
    receiver = await startReceiver();
    svc = await startService({ app: { seriesFlushMs: 60_000 } }); // only the graceful stop writes
    const dataDir = svc.dataDir;
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"]);
    await svc.ingest(Array.from({ length: 7 }, () => sampleEvent("users.messages.email.Send")));
    await waitFor(() => receiver!.events().length === 7);
    await svc.app.close();
    svc = await startService({ dataDir, app: { seriesFlushMs: 60_000 } });
    await svc.ingest(Array.from({ length: 5 }, () => sampleEvent("users.messages.email.Send")));
    await waitFor(() => receiver!.events().length === 12);
    await svc.app.close();
    svc = await startService({ dataDir });
    expect((await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered24h).toBe(12);
  });

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
    // The series is written every 100 ms here: it catches up with the counters.
    const seriesTotal = async () => ((await svc!.admin("GET", `/api/v1/currents/${id}/series?window=hour`)).body.points as Array<{ delivered: number }>).reduce((n, p) => n + p.delivered, 0);
    await waitFor(async () => (await seriesTotal()) === 12, 10_000, "the series shows the 12 deliveries");
    const series = (await svc.admin("GET", `/api/v1/currents/${id}/series?window=hour`)).body;
    expect(series.window).toBe("hour");
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

  it("honours an incoming X-Request-Id and carries it on every line the request causes; delivery failures name the Current and the batch", async () => {
    let logs = "";
    const sink = new Writable({ write(chunk, _e, done) { logs += chunk.toString(); done(); } });
    receiver = await startReceiver(() => ({ status: 503 }));
    svc = await startService({ app: { logger: pino({ level: "info" }, sink), retryPolicy: { baseDelayMs: 50, maxDelayMs: 100, multiplier: 2, jitterRatio: 0, maxRetryAfterMs: 1000 } } });
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"]);
    const res = await svc.call("PATCH", `/api/v1/currents/${id}`, { name: "renamed" }, undefined, { "x-request-id": "req-from-proxy-42" });
    expect(res.headers.get("x-request-id")).toBe("req-from-proxy-42");
    const odd = await svc.call("GET", "/api/v1/currents", undefined, undefined, { "x-request-id": "not sane, has spaces and (parens)" });
    expect(odd.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    await svc.ingest([sampleEvent("users.messages.email.Send")]);
    await waitFor(() => logs.includes("delivery attempt failed"), 10_000, "a failed attempt logged");
    const lines = logs.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.find((l) => l.msg === "current updated")).toMatchObject({ reqId: "req-from-proxy-42", currentId: id });
    expect(lines.find((l) => l.msg === "delivery attempt failed")).toMatchObject({ currentId: id, idempotencyKey: expect.stringMatching(new RegExp(`^${id}:`)) });
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
