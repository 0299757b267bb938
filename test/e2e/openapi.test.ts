import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import SwaggerParser from "@apidevtools/swagger-parser";
import { Ajv } from "ajv";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { ADMIN, INGEST, closedAfterEach, launchCurrent } from "../support/harness.js";

/**
 * The OpenAPI document (`/api/docs/json`) against the tools people check it with, and against
 * reality: every operation in the document is called (a good call, a call without credentials,
 * a bad call), and every answer's status must be documented and its body must match the
 * documented schema.
 */
const use = closedAfterEach();
const REDOCLY = fileURLToPath(new URL("../../node_modules/.bin/redocly", import.meta.url));
type Doc = { paths: Record<string, Record<string, { operationId: string; security?: unknown[]; responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };

describe("the OpenAPI document", () => {
  it("passes redocly lint (recommended rules) and swagger-parser validate; documents two security schemes, none on the probes", async () => {
    const svc = await use.service();
    const doc = await (await fetch(`${svc.url}/api/docs/json`)).json() as Doc & { info: { description: string }; components: { securitySchemes: object }; servers: unknown[] };
    const dir = mkdtempSync(join(tmpdir(), "openapi-"));
    use.add(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, "openapi.json"), JSON.stringify(doc));
    const lint = spawnSync(REDOCLY, ["lint", join(dir, "openapi.json"), "--format=stylish"], { encoding: "utf8", cwd: dir });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);
    expect(lint.stdout + lint.stderr).not.toMatch(/\berror\b/);
    await SwaggerParser.validate(JSON.parse(JSON.stringify(doc)) as never);
    expect(Object.keys(doc.components.securitySchemes).sort()).toEqual(["adminToken", "ingestKey", "session"]);
    expect(doc.servers.length).toBeGreaterThan(0);
    expect(doc.info.description).not.toMatch(/SPEC|\.md\b/);
    for (const probe of ["/healthz", "/readyz", "/metrics"]) expect(doc.paths[probe]?.get?.security, probe).toEqual([]);
    const ids = Object.values(doc.paths).flatMap((p) => Object.values(p).map((o) => o.operationId));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("says what the server really answers: every operation called, every status documented, every body of the documented shape", async () => {
    const receiver = await use.receiver();
    const svc = await use.service({ config: { readonlyToken: "read-only-token-0123456789" } });
    const doc = await SwaggerParser.dereference(await (await fetch(`${svc.url}/api/docs/json`)).json() as never) as unknown as Doc;
    const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"]);
    const draft = (await svc.admin("POST", "/api/v1/currents", { name: "D", partner: "custom_http", settings: { endpoint: receiver.url }, events: [] })).body.id as string;
    const key = (await svc.admin("POST", "/api/v1/ingest-keys", { workspace: "default" })).body.id as string;
    await svc.ingest([sampleEvent("users.messages.email.Send")]);
    const pmSettings = { username: "pm", password: "0123456789abcdef0" };
    const source = (await svc.admin("POST", "/api/v1/sources", { kind: "postmark", name: "PM", settings: pmSettings })).body.id as string;
    const doomed = (await svc.admin("POST", "/api/v1/sources", { kind: "postmark", name: "PM2", settings: pmSettings })).body.id as string;
    const basic = { authorization: `Basic ${Buffer.from("pm:0123456789abcdef0").toString("base64")}` };
    const delivery = { RecordType: "Delivery", MessageID: "m-1", Recipient: "a@example.com", DeliveredAt: "2024-11-27T09:33:20Z" };
    const importKey = (await svc.admin("POST", "/api/v1/data-import-keys", { workspace: "default" })).body as { id: string; key: string };
    const doomedKey = (await svc.admin("POST", "/api/v1/data-import-keys", {})).body.id as string;
    const cohortBody = { client_secret: importKey.key, cohort_id: "c1", name: "C1", created_at: "2026-11-01T00:00:00Z" };
    const noAuth = { authorization: "" };
    await fetch(`${svc.url}/partners/heap/cohorts`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(cohortBody) });
    const cohort = (await svc.admin("GET", "/api/v1/cohorts")).body.cohorts[0].id as string;
    await svc.app.services.store.deadLetters.add([{ currentId: id, seq: 1, body: JSON.stringify(sampleEvent("users.messages.email.Send")), status: 400, reason: "refused", excerpt: "", createdAt: Date.now() }]);

    type Call = { path: string; body?: unknown; raw?: string | Buffer; headers?: Record<string, string>; token?: string };
    /** For each operation: good calls, and bad calls (wrong input, a missing object, a wrong state). */
    const calls: Record<string, { good: Call[]; bad: Call[] }> = {
      health: { good: [{ path: "/healthz" }], bad: [] },
      ready: { good: [{ path: "/readyz" }], bad: [] },
      metrics: { good: [{ path: "/metrics" }], bad: [] },
      login: { good: [{ path: "/api/v1/session", body: { token: ADMIN } }], bad: [{ path: "/api/v1/session", body: { token: "nope" } }, { path: "/api/v1/session", body: { nope: 1 } }] },
      getSession: { good: [{ path: "/api/v1/session" }], bad: [] },
      logout: { good: [{ path: "/api/v1/session" }], bad: [] },
      ingestEvents: {
        good: [{ path: "/v1/events", body: { events: [sampleEvent("users.messages.email.Open")] }, token: INGEST },
          { path: "/v1/events", raw: gzipSync(JSON.stringify({ events: [sampleEvent("users.messages.email.Open")] })), headers: { "content-encoding": "gzip" }, token: INGEST }],
        bad: [{ path: "/v1/events", raw: "{nope", token: INGEST }, { path: "/v1/events", body: { events: [{ event_type: "nope" }] }, token: INGEST },
          { path: "/v1/events", body: { events: Array.from({ length: 1001 }, () => 1) }, token: INGEST }, { path: "/v1/events", raw: "{}", headers: { "content-type": "text/plain" }, token: INGEST }],
      },
      listSources: { good: [{ path: "/api/v1/sources" }], bad: [] },
      listSourceKinds: { good: [{ path: "/api/v1/source-kinds" }], bad: [] },
      createSource: { good: [{ path: "/api/v1/sources", body: { kind: "postmark", name: "P", settings: pmSettings } }], bad: [{ path: "/api/v1/sources", body: { kind: "nope", name: "x" } }, { path: "/api/v1/sources", body: { kind: "postmark" } }] },
      getSource: { good: [{ path: `/api/v1/sources/${source}` }], bad: [{ path: "/api/v1/sources/missing" }] },
      updateSource: { good: [{ path: `/api/v1/sources/${source}`, body: { name: "Renamed" } }], bad: [{ path: `/api/v1/sources/${source}`, body: { kind: "sendgrid" } }, { path: "/api/v1/sources/missing", body: { name: "x" } }] },
      deleteSource: { good: [{ path: `/api/v1/sources/${doomed}` }], bad: [{ path: "/api/v1/sources/missing" }] },
      receiveSourceWebhook: {
        good: [{ path: `/v1/sources/${source}`, body: delivery, headers: basic }],
        bad: [{ path: `/v1/sources/${source}`, body: delivery, headers: { authorization: "Basic bm9wZTpub3Bl" } }, { path: `/v1/sources/${source}`, raw: "[1,2]", headers: basic }, { path: "/v1/sources/missing", body: delivery }],
      },
      listAudit: { good: [{ path: "/api/v1/audit?limit=5" }], bad: [{ path: "/api/v1/audit?limit=x" }] },
      listCurrents: { good: [{ path: "/api/v1/currents" }], bad: [{ path: `/api/v1/currents?workspace=${"w".repeat(80)}` }] },
      createCurrent: { good: [{ path: "/api/v1/currents", body: { name: "C", partner: "custom_http", settings: { endpoint: receiver.url }, events: [] } }],
        bad: [{ path: "/api/v1/currents", body: { name: "C" } }, { path: "/api/v1/currents", body: { name: "C", partner: "custom_http", settings: { endpoint: receiver.url }, events: [] }, token: "read-only-token-0123456789" }] },
      getCurrent: { good: [{ path: `/api/v1/currents/${id}` }], bad: [{ path: "/api/v1/currents/missing" }] },
      updateCurrent: { good: [{ path: `/api/v1/currents/${id}`, body: { name: "Renamed" } }], bad: [{ path: `/api/v1/currents/${id}`, body: { partner: "heap" } }, { path: "/api/v1/currents/missing", body: { name: "x" } }] },
      deleteCurrent: { good: [{ path: `/api/v1/currents/${draft}` }], bad: [{ path: "/api/v1/currents/missing" }] },
      launchCurrent: { good: [], bad: [{ path: `/api/v1/currents/${id}/launch` }, { path: "/api/v1/currents/missing/launch" }] },
      pauseCurrent: { good: [{ path: `/api/v1/currents/${id}/pause` }], bad: [{ path: `/api/v1/currents/${id}/pause` }] },
      resumeCurrent: { good: [{ path: `/api/v1/currents/${id}/resume` }], bad: [{ path: `/api/v1/currents/${id}/resume` }] },
      listAttempts: {
        good: [{ path: `/api/v1/currents/${id}/attempts` }, { path: `/api/v1/currents/${id}/attempts?outcome=failed&limit=2&since=0&before=99` }],
        bad: [{ path: "/api/v1/currents/missing/attempts" }, { path: `/api/v1/currents/${id}/attempts?since=soon` }],
      },
      checkCurrentConnection: {
        good: [{ path: `/api/v1/currents/${id}/check`, body: {} }, { path: `/api/v1/currents/${id}/check`, body: { settings: { endpoint: "https://example.invalid/x" } } }],
        bad: [{ path: "/api/v1/currents/missing/check", body: {} }, { path: `/api/v1/currents/${id}/check`, body: { settings: { nope: 1 } } }],
      },
      getAlerts: { good: [{ path: `/api/v1/currents/${id}/alerts` }], bad: [{ path: "/api/v1/currents/missing/alerts" }] },
      setAlerts: {
        good: [{ path: `/api/v1/currents/${id}/alerts`, body: { oldestPendingMinutes: 30, errorRatePercent: null, deadLetters: 5 } }],
        bad: [{ path: `/api/v1/currents/${id}/alerts`, body: { oldestPendingMinutes: 0, errorRatePercent: null, deadLetters: 5 } }, { path: "/api/v1/currents/missing/alerts", body: { oldestPendingMinutes: 30, errorRatePercent: null, deadLetters: 5 } }],
      },
      resetAlerts: { good: [{ path: `/api/v1/currents/${id}/alerts` }], bad: [{ path: "/api/v1/currents/missing/alerts" }] },
      searchEvents: {
        good: [{ path: "/api/v1/events?eventId=e1" }, { path: "/api/v1/events?userId=u1&since=0&limit=5" }],
        bad: [{ path: "/api/v1/events" }, { path: "/api/v1/events?eventId=e1&until=0" }],
      },
      listDeadLetters: { good: [{ path: `/api/v1/currents/${id}/dead-letters?limit=10` }], bad: [{ path: `/api/v1/currents/${id}/dead-letters?limit=-1` }] },
      sendTestEvents: { good: [{ path: `/api/v1/currents/${id}/test` }], bad: [{ path: "/api/v1/currents/missing/test" }] },
      replay: { good: [{ path: `/api/v1/currents/${id}/replay`, body: { from: "2020-01-01T00:00:00Z" } }], bad: [{ path: `/api/v1/currents/${id}/replay`, body: { from: "yesterday-ish" } }, { path: `/api/v1/currents/${id}/replay`, body: { from: 1 } }] },
      redriveDeadLetters: { good: [{ path: `/api/v1/currents/${id}/dead-letters/redrive`, body: {} }], bad: [{ path: `/api/v1/currents/${id}/dead-letters/redrive`, body: { ids: [] } }] },
      discardDeadLetters: { good: [{ path: `/api/v1/currents/${id}/dead-letters/discard`, body: { ids: [999] } }], bad: [{ path: `/api/v1/currents/${id}/dead-letters/discard`, body: {} }] },
      getSeries: { good: [{ path: `/api/v1/currents/${id}/series?window=day` }], bad: [{ path: `/api/v1/currents/${id}/series?window=week` }] },
      getVolumeByType: { good: [{ path: `/api/v1/currents/${id}/volume?window=day` }], bad: [{ path: `/api/v1/currents/${id}/volume?window=week` }, { path: "/api/v1/currents/missing/volume" }] },
      cancelJob: { good: [], bad: [{ path: `/api/v1/currents/${id}/job/cancel` }, { path: "/api/v1/currents/missing/job/cancel" }] },
      retryNow: { good: [{ path: `/api/v1/currents/${id}/retry-now` }], bad: [{ path: `/api/v1/currents/${draft}/retry-now` }, { path: "/api/v1/currents/missing/retry-now" }] },
      getHistory: { good: [{ path: `/api/v1/currents/${id}/history` }], bad: [{ path: "/api/v1/currents/missing/history" }] },
      listEventTypes: { good: [{ path: "/api/v1/event-types" }], bad: [] },
      listPartners: { good: [{ path: "/api/v1/partners" }], bad: [] },
      checkConnection: { good: [{ path: "/api/v1/partners/custom_http/check", body: { settings: { endpoint: receiver.url } } }], bad: [{ path: "/api/v1/partners/nope/check", body: { settings: {} } }] },
      getCluster: { good: [{ path: "/api/v1/cluster" }], bad: [] },
      listWorkspaces: { good: [{ path: "/api/v1/workspaces" }], bad: [] },
      updateWorkspace: { good: [{ path: "/api/v1/workspaces/default", body: { strict: false } }], bad: [{ path: "/api/v1/workspaces/nope", body: { strict: true } }, { path: "/api/v1/workspaces/default", body: {} }] },
      createIngestKey: { good: [{ path: "/api/v1/ingest-keys", body: { workspace: "default" } }], bad: [{ path: "/api/v1/ingest-keys", body: { workspace: "bad space" } }] },
      listIngestKeys: { good: [{ path: "/api/v1/ingest-keys" }], bad: [] },
      importCohort: {
        good: [{ path: "/partners/heap/cohorts", body: cohortBody, headers: noAuth }],
        bad: [{ path: "/partners/heap/cohorts", body: { ...cohortBody, client_secret: "wrong" }, headers: noAuth }, { path: "/partners/heap/cohorts", body: { ...cohortBody, created_at: "soon" }, headers: noAuth }],
      },
      importCohortMembers: {
        good: [{ path: "/partners/heap/cohorts/users", body: { client_secret: importKey.key, cohort_id: "c1", cohort_changes: [{ user_ids: ["u1"] }] }, headers: noAuth }],
        bad: [{ path: "/partners/heap/cohorts/users", body: { client_secret: importKey.key, cohort_id: "c1", cohort_changes: [{ user_ids: Array.from({ length: 1_001 }, (_, i) => `u${i}`) }] }, headers: noAuth },
          { path: "/partners/heap/cohorts/users", body: { client_secret: "wrong", cohort_id: "c1", cohort_changes: [{ user_ids: ["u1"] }] }, headers: noAuth }],
      },
      listCohorts: { good: [{ path: "/api/v1/cohorts?search=c&limit=10" }], bad: [{ path: "/api/v1/cohorts?limit=9999" }] },
      getCohort: { good: [{ path: `/api/v1/cohorts/${cohort}` }], bad: [{ path: "/api/v1/cohorts/missing" }] },
      listCohortMembers: { good: [{ path: `/api/v1/cohorts/${cohort}/members?limit=5` }], bad: [{ path: `/api/v1/cohorts/${cohort}/members?cursor=nope` }, { path: "/api/v1/cohorts/missing/members" }] },
      getUserCohorts: { good: [{ path: "/api/v1/users/u1/cohorts" }], bad: [{ path: "/api/v1/users/u1/cohorts?kind=alias" }] },
      createDataImportKey: { good: [{ path: "/api/v1/data-import-keys", body: { workspace: "default" } }], bad: [{ path: "/api/v1/data-import-keys", body: { workspace: "bad space" } }] },
      listDataImportKeys: { good: [{ path: "/api/v1/data-import-keys" }], bad: [] },
      deleteDataImportKey: { good: [{ path: `/api/v1/data-import-keys/${doomedKey}` }], bad: [{ path: "/api/v1/data-import-keys/missing" }] },
      revokeIngestKey: { good: [{ path: `/api/v1/ingest-keys/${key}` }], bad: [{ path: `/api/v1/ingest-keys/${key}` }, { path: "/api/v1/ingest-keys/missing" }] },
    };
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, o]) => ({ path, method: method.toUpperCase(), ...o })));
    expect(ops.map((o) => o.operationId).filter((x) => !calls[x])).toEqual([]); // every documented operation is exercised
    let checked = 0;
    let shapes = 0;
    const check = async (o: (typeof ops)[number], c: Call, withAuth: boolean) => {
      const token = c.token ?? (o.path.startsWith("/v1/") ? INGEST : ADMIN);
      const headers: Record<string, string> = { ...(withAuth ? { authorization: `Bearer ${token}` } : {}), ...(c.body !== undefined || c.raw !== undefined ? { "content-type": "application/json" } : {}), ...c.headers };
      const res = await fetch(`${svc.url}${c.path}`, { method: o.method, headers, body: c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body)) });
      const text = await res.text();
      const documented = o.responses[String(res.status)];
      expect(documented, `${o.method} ${c.path} answered ${res.status} (${text.slice(0, 200)}), which ${o.operationId} does not document`).toBeDefined();
      const schema = documented?.content?.["application/json"]?.schema;
      if (schema && text) {
        const validate = ajv.compile(schema);
        const body = JSON.parse(text) as unknown;
        expect(validate(body), `${o.method} ${c.path} ${res.status}: ${ajv.errorsText(validate.errors)} in ${text.slice(0, 300)}`).toBe(true);
        shapes++;
      }
      checked++;
    };
    for (const o of ops) {
      const { good, bad } = calls[o.operationId] as { good: Call[]; bad: Call[] };
      for (const c of [...good, ...bad]) await check(o, c, true);
      if (o.security && o.security.length > 0) await check(o, good[0] ?? bad[0] as Call, false);
    }
    expect(checked).toBeGreaterThan(60);
    expect(shapes).toBeGreaterThan(55); // all but the empty (204) and text (metrics) answers were shape-checked
  });
});
