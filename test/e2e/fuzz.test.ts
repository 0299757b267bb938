import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allEventTypes } from "../../src/catalog/catalog.js";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { rawPost } from "../support/raw-post.js";
import { ADMIN, INGEST, type Service, startService } from "../support/harness.js";

/**
 * Property-based fuzzing of the ingest and admin APIs: thousands of malformed bodies,
 * headers and values. Whatever comes in, the answer is never a 5xx, the server stays up,
 * and every event it acknowledged is in the store.
 */
let svc: Service;
let acknowledged = 0;
beforeAll(async () => {
  svc = await startService({ config: { ingestRateLimit: 100_000_000 } });
});
afterAll(async () => {
  await svc.close();
});

const types = allEventTypes().map((d) => d.type);
const anyJson = fc.jsonValue({ maxDepth: 4 });
/** A valid event with one field mutated, removed or added. */
const mutatedEvent = fc.tuple(fc.constantFrom(...types), fc.nat(1000), fc.constantFrom("set", "delete", "ok"), fc.string({ maxLength: 12 }), anyJson)
  .map(([type, n, op, key, value]) => {
    const e = sampleEvent(type, { n, id: `fz-${n}-${Math.random()}` }) as Record<string, Record<string, unknown>>;
    const holder = [e, e.user, e.properties].filter(Boolean)[n % 3] ?? e;
    const keys = Object.keys(holder);
    const k = key === "" && keys.length > 0 ? (keys[n % keys.length] as string) : key;
    if (op === "set") holder[k] = value;
    if (op === "delete") delete holder[k];
    return e as unknown;
  });
const nasty = fc.constantFrom(
  '{"events":[{"__proto__":{"polluted":true}}]}', '{"constructor":{"prototype":{"x":1}}}', "\u0000", "{".repeat(5000), "[".repeat(100000),
  '{"events":null}', '{"events":[null,1,"x",[]]}', '{"events":[{"event_type":{"$ne":1}}]}', "\ud800", '{"events":[' + "1,".repeat(2000) + "1]}",
);
const body = fc.oneof(
  anyJson.map((v) => JSON.stringify(v)),
  fc.array(fc.oneof(mutatedEvent, anyJson), { maxLength: 20 }).map((events) => JSON.stringify({ events })),
  fc.string({ maxLength: 300 }),
  nasty,
);
const contentType = fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "", "application/json;;;");

describe("fuzzing", () => {
  it("ingest: no 5xx, no crash, nothing acknowledged is lost", async () => {
    const before = await svc.app.services.store.events.size();
    await fc.assert(fc.asyncProperty(body, contentType, fc.constantFrom(INGEST, "bad-key", ""), async (b, ct, key) => {
      const headers: Record<string, string> = key ? { authorization: `Bearer ${key}` } : {};
      if (ct) headers["content-type"] = ct;
      const r = await rawPost(`${svc.url}/v1/events`, b, headers);
      expect(r.status, `${r.status} ${r.text}`).toBeLessThan(500);
      expect(r.status).toBeGreaterThanOrEqual(200);
      if (r.status === 200) {
        const answer = JSON.parse(r.text) as { accepted: number; duplicates: number };
        acknowledged += answer.accepted - answer.duplicates;
      }
    }), { numRuns: 1500 });
    expect(await svc.app.services.store.events.size()).toBe(before + acknowledged);
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("admin API: no 5xx for any create or update body", async () => {
    const current = fc.record({
      name: fc.oneof(fc.string({ maxLength: 300 }), anyJson),
      partner: fc.oneof(fc.constantFrom("heap", "custom_http", "__proto__", "constructor", "toString"), anyJson),
      contactEmail: fc.oneof(fc.emailAddress(), fc.string(), anyJson),
      workspace: fc.oneof(fc.constantFrom("default", "nope"), anyJson),
      settings: fc.oneof(fc.record({ endpoint: fc.oneof(fc.webUrl(), fc.string(), anyJson), bearerToken: fc.oneof(fc.string(), anyJson) }, { requiredKeys: [] }), anyJson),
      events: fc.oneof(fc.array(fc.constantFrom(...types, "nope")), anyJson),
      transformations: fc.oneof(fc.array(fc.record({ field: fc.string(), action: fc.oneof(fc.constantFrom("remove", "hash"), fc.string()) })), anyJson),
      batching: fc.oneof(fc.record({ maxBatchEvents: fc.integer(), lingerMs: fc.double() }, { requiredKeys: [] }), anyJson),
    }, { requiredKeys: [] });
    const created = await svc.admin("POST", "/api/v1/currents", { name: "fuzz", partner: "heap", settings: { endpoint: "http://127.0.0.1:9/x" }, events: [] });
    await fc.assert(fc.asyncProperty(current, async (c) => {
      const r = await rawPost(`${svc.url}/api/v1/currents`, JSON.stringify(c), { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" });
      expect(r.status, r.text).toBeLessThan(500);
    }), { numRuns: 300 });
    await fc.assert(fc.asyncProperty(current, async (c) => {
      const r = await svc.admin("PATCH", `/api/v1/currents/${created.body.id}`, c);
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
    }), { numRuns: 300 });
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
  });
});

describe("fuzzing the PostgreSQL store (server mode)", () => {
  let pgSvc: Service;
  let db: { name: string; url: string };
  beforeAll(async () => {
    const { createDatabase } = await import("../support/postgres.js");
    db = await createDatabase();
    pgSvc = await startService({ config: { ingestRateLimit: 100_000_000, databaseUrl: db.url, masterKey: "ab".repeat(32) } });
  });
  afterAll(async () => {
    await pgSvc?.close();
    const { dropDatabase } = await import("../support/postgres.js");
    await dropDatabase(db.name);
  });

  /** Values PostgreSQL's json refuses where JSON.parse does not, or that stress its text handling. */
  const hostileValue = fc.constantFrom("\ud83d", "\ude00", "a\ud800b", "\u0000", "\\u0000", "1e400", Number.MAX_SAFE_INTEGER * 10, "\u2028", "\uFFFF", "é".repeat(3000));
  const hostileEvent = fc.tuple(fc.constantFrom(...types), fc.nat(1000), hostileValue).map(([type, n, v]) => {
    const e = sampleEvent(type, { n, id: `pgfz-${n}-${Math.random()}` }) as Record<string, Record<string, unknown>>;
    (e.properties ??= {}).hostile = v;
    return e as unknown;
  });

  it("no 5xx, and a hostile request never fails a valid one sent at the same moment (one commit group)", async () => {
    const before = await pgSvc.app.services.store.events.size();
    let acked = 0;
    const post = (b: string) => rawPost(`${pgSvc.url}/v1/events`, b, { authorization: `Bearer ${INGEST}`, "content-type": "application/json" });
    await fc.assert(fc.asyncProperty(fc.array(fc.oneof(hostileEvent, mutatedEvent), { minLength: 1, maxLength: 10 }), async (events) => {
      const valid = [sampleEvent(types[0] as string, { id: `valid-${Math.random()}` })];
      const [h, v] = await Promise.all([post(JSON.stringify({ events })), post(JSON.stringify({ events: valid }))]);
      expect(h.status, h.text).toBeLessThan(500);
      expect(v.status, v.text).toBe(200);
      for (const r of [h, v]) if (r.status === 200) {
        const answer = JSON.parse(r.text) as { accepted: number; duplicates: number };
        acked += answer.accepted - answer.duplicates;
      }
    }), { numRuns: 200 });
    expect(await pgSvc.app.services.store.events.size()).toBe(before + acked);
  });
});
