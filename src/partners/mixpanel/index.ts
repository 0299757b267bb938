import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { VERSION } from "../../version.js";
import { type Event, TEST_USER, baseOf, commonSettings, nameMode, parseEvent, toTestUser, userField } from "../analytics-common.js";
import { definePartner } from "../define-partner.js";
import { eventName } from "../event-name.js";

const REGIONS = { us: "https://api.mixpanel.com", eu: "https://api-eu.mixpanel.com", in: "https://api-in.mixpanel.com" };
/** distinct_id placeholders Mixpanel refuses. */
const PLACEHOLDERS = new Set(["null", "0", "-1", "anon", "anonymous", "undefined", "nil", "none", "[]", "{}", "00000000-0000-0000-0000-000000000000"]);

/** `$insert_id`: at most 36 characters of [A-Za-z0-9-]; other ids are hashed to fit (the same id always gives the same one). */
export const insertId = (id: string) => (/^[A-Za-z0-9-]{1,36}$/.test(id) ? id : createHash("sha256").update(id).digest("hex").slice(0, 32));

const distinctId = (e: Event) => userField(e, "external_user_id") ?? userField(e, "user_id");

function encode(e: Event, mode: "type" | "friendly") {
  return {
    event: eventName(e, mode),
    properties: { ...(e.properties ?? {}), time: Number(e.time), distinct_id: distinctId(e), $insert_id: insertId(String(e.id)), currents_event_type: String(e.event_type) },
  };
}

/**
 * Mixpanel's Import API (`/import?strict=1`), a service account or the project token; <= 2,000
 * events and 2 MB, gzipped. In strict mode a 400 lists `failed_records` while the rest was
 * imported: those are dead letters, the others delivered (never sent again).
 */
export const mixpanel = definePartner({
  id: "mixpanel",
  title: "Mixpanel",
  description: "Streams events to Mixpanel's Import API with a service account or your project token.",
  settings: [
    { key: "projectId", label: "Project ID", type: "string", required: true, secret: false, pattern: "^[0-9]{1,20}$", patternHelp: "must be the digits of your Mixpanel project id", help: "Mixpanel: Project settings > Overview > Project ID." },
    { key: "serviceAccountUser", label: "Service account user", type: "string", required: false, secret: false, pattern: "^[^\\s:]{1,200}$", patternHelp: "must be the service account's username (no spaces or colons)", help: "A service account (Owner or Admin); or leave empty and give the project token." },
    { key: "serviceAccountSecret", label: "Service account secret", type: "string", required: false, secret: true, minLength: 16, help: "The service account's secret." },
    { key: "projectToken", label: "Project token", type: "string", required: false, secret: true, minLength: 16, help: "Instead of a service account: Project settings > Access keys > Project token." },
    ...commonSettings([{ value: "us", label: "US (api.mixpanel.com)" }, { value: "eu", label: "EU (api-eu.mixpanel.com)" }, { value: "in", label: "India (api-in.mixpanel.com)" }]),
  ],
  limits: { maxBatchEvents: 2_000, maxBatchBytes: 1_800_000 },
  testEventsNote: `Test events go to the Mixpanel user "${TEST_USER}", not to your real users.`,
  endpointOf: (s) => `${baseOf(s, REGIONS)}/import?strict=1&project_id=${String(s.projectId)}`,
  testEvent: (event) => toTestUser(event),
  validate(s) {
    if (s.serviceAccountUser && !s.serviceAccountSecret) return { field: "serviceAccountSecret", message: "is required with serviceAccountUser" };
    if (s.serviceAccountSecret && !s.serviceAccountUser) return { field: "serviceAccountUser", message: "is required with serviceAccountSecret" };
    if (!s.serviceAccountUser && !s.projectToken) return { field: "projectToken", message: "is required (or a service account: serviceAccountUser and serviceAccountSecret)" };
    return undefined;
  },
  refuse(body) {
    const e = parseEvent(body);
    const id = distinctId(e);
    if (!id) return "no user id for Mixpanel's distinct_id (external_user_id or user_id)";
    if (PLACEHOLDERS.has(id.toLowerCase())) return `Mixpanel refuses the placeholder distinct_id "${id}"`;
    const t = Number(e.time);
    if (t < 31_536_000) return "Mixpanel refuses times before 1971";
    if (t * 1000 > Date.now() + 3_600_000) return "Mixpanel refuses times more than an hour in the future";
    return undefined;
  },
  buildRequest(batch, settings) {
    const mode = nameMode(settings);
    const events = batch.bodies.length > 0
      ? batch.bodies.map((b) => encode(parseEvent(b), mode))
      : [{ event: "Currents connection check", properties: { time: Math.floor(Date.now() / 1000), distinct_id: TEST_USER, $insert_id: insertId(`check-${batch.idempotencyKey}`) } }];
    const user = settings.serviceAccountUser ? `${String(settings.serviceAccountUser)}:${String(settings.serviceAccountSecret ?? "")}` : `${String(settings.projectToken ?? "")}:`;
    return {
      url: `${baseOf(settings, REGIONS)}/import?strict=1&project_id=${encodeURIComponent(String(settings.projectId))}`,
      headers: { "content-type": "application/json", "content-encoding": "gzip", authorization: `Basic ${Buffer.from(user).toString("base64")}`, "user-agent": `currents/${VERSION}` },
      body: gzipSync(JSON.stringify(events), { level: 1 }),
      answerBytes: 256 * 1024,
    };
  },
  readAnswer(answer) {
    if (answer.status !== 400) return undefined;
    try {
      const body = JSON.parse(answer.body) as { failed_records?: Array<{ index: number; field?: string; message?: string }> };
      if (!Array.isArray(body.failed_records) || body.failed_records.length === 0) return undefined;
      return { deadLetters: body.failed_records.map((r) => ({ index: r.index, reason: `refused by Mixpanel (400): ${[r.field, r.message].filter(Boolean).join(": ")}` })) };
    } catch {
      return undefined;
    }
  },
});
