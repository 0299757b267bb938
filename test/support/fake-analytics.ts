import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

type Answer = { status: number; body: unknown };

/** A local HTTP double of a partner: `handle` answers each request; closes its sockets on close. */
async function serve(handle: (path: string, headers: http.IncomingHttpHeaders, raw: Buffer) => Answer) {
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let raw = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") raw = gunzipSync(raw);
      const a = handle(req.url ?? "", req.headers, raw);
      res.writeHead(a.status, { "content-type": "application/json" }).end(JSON.stringify(a.body));
    });
  });
  server.on("connection", (s) => { sockets.add(s); s.on("close", () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/**
 * Amplitude HTTP V2 as documented: api_key, <= 2,000 events and < 1 MB (413), a user_id or
 * device_id of at least min_id_length that is not a placeholder, an event_type, time in ms;
 * 400 naming the invalid events (nothing ingested); 429 naming throttled users and events when
 * a user sent more than `perUser` events in the last `windowMs` (nothing ingested); insert_id dedupes.
 */
export async function fakeAmplitude(o: { apiKey: string; perUser?: number; windowMs?: number }) {
  const events = new Map<string, Record<string, unknown>>();
  const usage = new Map<string, number[]>();
  let requests = 0;
  const s = await serve((path, _h, raw) => {
    requests++;
    if (path !== "/2/httpapi") return { status: 404, body: {} };
    if (raw.length >= 1_000_000) return { status: 413, body: { code: 413, error: "Payload too large" } };
    const b = JSON.parse(raw.toString("utf8")) as { api_key?: string; events?: Array<Record<string, unknown>>; options?: { min_id_length?: number } };
    if (b.api_key !== o.apiKey) return { status: 400, body: { code: 400, error: "Invalid API key: " } };
    const list = b.events ?? [];
    if (list.length > 2000) return { status: 413, body: { code: 413, error: "Payload too large" } };
    const min = b.options?.min_id_length ?? 5;
    const invalid: Record<string, number[]> = {};
    const bad = (field: string, i: number) => (invalid[field] ??= []).push(i);
    list.forEach((e, i) => {
      const ok = (v: unknown) => typeof v === "string" && v.length >= min && !["null", "anonymous"].includes(v.toLowerCase());
      if (e.user_id !== undefined && !ok(e.user_id)) bad("user_id", i);
      else if (e.user_id === undefined && !ok(e.device_id)) bad("device_id", i);
      if (typeof e.time !== "number") bad("time", i);
      if (typeof e.event_type !== "string" || e.event_type === "") bad("event_type", i);
    });
    if (Object.keys(invalid).length > 0) return { status: 400, body: { code: 400, error: "Invalid field values on some events", events_with_invalid_fields: invalid } };
    const now = Date.now();
    const throttledUsers: Record<string, number> = {};
    const throttledEvents: number[] = [];
    list.forEach((e, i) => {
      const id = String(e.user_id ?? e.device_id);
      const recent = (usage.get(id) ?? []).filter((t) => t > now - (o.windowMs ?? 1000));
      if (recent.length >= (o.perUser ?? Infinity)) {
        throttledUsers[id] = recent.length;
        throttledEvents.push(i);
      }
    });
    if (throttledEvents.length > 0) return { status: 429, body: { code: 429, error: "Too many requests for some devices and users", eps_threshold: o.perUser, throttled_users: throttledUsers, throttled_events: throttledEvents } };
    for (const e of list) {
      const id = String(e.user_id ?? e.device_id);
      usage.set(id, [...(usage.get(id) ?? []), now]);
      if (!events.has(String(e.insert_id))) events.set(String(e.insert_id), e);
    }
    return { status: 200, body: { code: 200, events_ingested: list.length, payload_size_bytes: raw.length, server_upload_time: now } };
  });
  return { ...s, events, requests: () => requests };
}

/**
 * Mixpanel's /import?strict=1 as documented: Basic auth (401), <= 2,000 events, each with event,
 * properties.time, a non-placeholder distinct_id and a $insert_id of [A-Za-z0-9-]{1,36}; in
 * strict mode a 400 lists failed_records while the valid events are imported.
 */
export async function fakeMixpanel(o: { projectId: string; token: string }) {
  const imported = new Map<string, { event: string; properties: Record<string, unknown> }>();
  let imports = 0;
  const s = await serve((path, headers, raw) => {
    const url = new URL(path, "http://x");
    if (url.pathname !== "/import" || url.searchParams.get("strict") !== "1" || url.searchParams.get("project_id") !== o.projectId) return { status: 404, body: {} };
    if (headers.authorization !== `Basic ${Buffer.from(`${o.token}:`).toString("base64")}`) return { status: 401, body: { code: 401, error: "Unauthorized" } };
    const list = JSON.parse(raw.toString("utf8")) as Array<{ event?: string; properties?: Record<string, unknown> }>;
    if (list.length > 2000) return { status: 413, body: { code: 413, error: "too many events" } };
    const failed: Array<{ index: number; $insert_id: unknown; field: string; message: string }> = [];
    let n = 0;
    list.forEach((e, index) => {
      const p = e.properties ?? {};
      const fail = (field: string, message: string) => failed.push({ index, $insert_id: p.$insert_id, field, message });
      if (typeof e.event !== "string" || !e.event) return fail("event", "'event' must be a non-empty string");
      if (typeof p.time !== "number") return fail("properties.time", "'properties.time' must be a number");
      if (typeof p.distinct_id !== "string" || ["anon", "null", "0"].includes(p.distinct_id)) return fail("properties.distinct_id", "'properties.distinct_id' is invalid");
      if (typeof p.$insert_id !== "string" || !/^[A-Za-z0-9-]{1,36}$/.test(p.$insert_id)) return fail("properties.$insert_id", "'properties.$insert_id' is invalid");
      const depth = (v: unknown): number => (v !== null && typeof v === "object" ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0);
      if (depth(p) > 3) return fail("properties", "properties are nested more than 3 levels deep");
      n++;
      imports++;
      if (!imported.has(p.$insert_id)) imported.set(p.$insert_id, { event: e.event, properties: p });
    });
    if (failed.length > 0) return { status: 400, body: { code: 400, error: "some data points in the request failed validation", status: "Bad Request", num_records_imported: n, failed_records: failed } };
    return { status: 200, body: { code: 200, num_records_imported: n, status: "OK" } };
  });
  return { ...s, imported, imports: () => imports };
}

/**
 * Segment's /v1/batch as documented: the write key as Basic auth, 400 over 500 KB; and what
 * Segment does silently: an event without userId/anonymousId or event, or over 32 KB, is
 * dropped with a 200. messageId dedupes.
 */
export async function fakeSegment(o: { writeKey: string }) {
  const received = new Map<string, Record<string, unknown>>();
  let dropped = 0;
  const s = await serve((path, headers, raw) => {
    if (path !== "/v1/batch") return { status: 404, body: {} };
    if (headers.authorization !== `Basic ${Buffer.from(`${o.writeKey}:`).toString("base64")}`) return { status: 401, body: { success: false } };
    if (raw.length > 500 * 1024) return { status: 400, body: { success: false, message: "batch too large" } };
    const b = JSON.parse(raw.toString("utf8")) as { batch: Array<Record<string, unknown>> };
    for (const e of b.batch) {
      if ((!e.userId && !e.anonymousId) || !e.event || Buffer.byteLength(JSON.stringify(e)) > 32 * 1024) {
        dropped++;
        continue;
      }
      if (!received.has(String(e.messageId))) received.set(String(e.messageId), e);
    }
    return { status: 200, body: { success: true } };
  });
  return { ...s, received, dropped: () => dropped };
}
