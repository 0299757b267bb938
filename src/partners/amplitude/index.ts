import { VERSION } from "../../version.js";
import { type Event, TEST_USER, baseOf, commonSettings, nameMode, parseEvent, toTestUser, userField } from "../analytics-common.js";
import { definePartner } from "../define-partner.js";
import { eventName } from "../event-name.js";

const REGIONS = { us: "https://api2.amplitude.com", eu: "https://api.eu.amplitude.com" };

/** Placeholder ids Amplitude refuses. */
const PLACEHOLDERS = new Set(["null", "anonymous", "undefined", "none", "nil", "0", "-1", "lmy47d"]);

function ids(e: Event): { user_id?: string; device_id?: string } {
  const user = userField(e, "external_user_id");
  const device = userField(e, "device_id") ?? userField(e, "user_id");
  return { ...(user ? { user_id: user } : {}), ...(device ? { device_id: device } : {}) };
}

/** One event for HTTP V2 (PARTNER-FORMATS.md section 7). */
function encode(e: Event, mode: "type" | "friendly") {
  const { email_address: email, ...props } = (e.properties ?? {}) as Record<string, unknown>;
  const timezone = userField(e, "timezone");
  const userProps = { ...(typeof email === "string" ? { email } : {}), ...(timezone ? { timezone } : {}) };
  return {
    ...ids(e),
    event_type: eventName(e, mode),
    time: Math.round(Number(e.time) * 1000),
    insert_id: String(e.id),
    event_properties: { ...props, ...(email !== undefined ? { email_address: email } : {}), currents_event_type: String(e.event_type) },
    ...(Object.keys(userProps).length > 0 ? { user_properties: userProps } : {}),
  };
}

/**
 * Amplitude HTTP V2: `POST /2/httpapi`, <= 2,000 events and < 1 MB. Its 400 names the invalid
 * events (dead letters; the rest is sent again) and its 429 the throttled users (their events
 * wait, the others go on at once); 413 halves.
 */
export const amplitude = definePartner({
  id: "amplitude",
  title: "Amplitude",
  description: "Streams events to Amplitude's HTTP V2 API with your project's API key.",
  settings: [
    { key: "apiKey", label: "API key", type: "string", required: true, secret: true, minLength: 16, help: "Amplitude: Settings > Projects > your project > API key." },
    ...commonSettings([{ value: "us", label: "US (api2.amplitude.com)" }, { value: "eu", label: "EU (api.eu.amplitude.com)" }]),
    { key: "throttleHoldSeconds", label: "Wait of a throttled user (s)", type: "number", required: false, secret: false, default: 30, min: 1, max: 600, help: "How long the events of a user Amplitude throttled wait (Amplitude: 15-30 s)." },
  ],
  limits: { maxBatchEvents: 2_000, maxBatchBytes: 800_000 },
  testEventsNote: `Test events go to the Amplitude user "${TEST_USER}", not to your real users.`,
  endpointOf: (s) => `${baseOf(s, REGIONS)}/2/httpapi`,
  testEvent: (event) => toTestUser(event),
  refuse(body) {
    const e = parseEvent(body);
    const { user_id: u, device_id: d } = ids(e);
    if (!u && !d) return "no user id for Amplitude (external_user_id, device_id or user_id)";
    if ([u, d].every((x) => x === undefined || PLACEHOLDERS.has(x.toLowerCase()))) return `Amplitude refuses the placeholder id "${u ?? d}"`;
    return undefined;
  },
  buildRequest(batch, settings) {
    const mode = nameMode(settings);
    const events = batch.bodies.length > 0
      ? batch.bodies.map((b) => encode(parseEvent(b), mode))
      : [{ user_id: TEST_USER, event_type: "Currents connection check", time: Date.now(), insert_id: `currents-check-${batch.idempotencyKey}` }];
    return {
      url: `${baseOf(settings, REGIONS)}/2/httpapi`,
      headers: { "content-type": "application/json", accept: "*/*", "user-agent": `currents/${VERSION}` },
      body: JSON.stringify({ api_key: String(settings.apiKey), events, options: { min_id_length: 1 } }),
      answerBytes: 256 * 1024,
    };
  },
  readAnswer(answer, count, settings) {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(answer.body) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (answer.status === 400 && /api.?key/i.test(String(body.error ?? ""))) return { failing: `Amplitude refused the API key (400: ${String(body.error)})` };
    if (answer.status === 400) {
      const named = new Map<number, string[]>();
      for (const key of ["events_with_invalid_fields", "events_with_missing_fields"] as const) {
        for (const [field, idx] of Object.entries((body[key] ?? {}) as Record<string, number[]>)) {
          for (const i of Array.isArray(idx) ? idx : []) named.set(i, [...(named.get(i) ?? []), `${key === "events_with_invalid_fields" ? "invalid" : "missing"} ${field}`]);
        }
      }
      if (named.size === 0) return undefined; // names nothing: bisect
      const rest = Array.from({ length: count }, (_, i) => i).filter((i) => !named.has(i));
      return { deadLetters: [...named].map(([index, why]) => ({ index, reason: `refused by Amplitude (400): ${why.join(", ")}` })), retry: rest.map((index) => ({ index })) };
    }
    if (answer.status === 429 && Array.isArray(body.throttled_events)) {
      const hold = Number(settings.throttleHoldSeconds ?? 30) * 1000;
      const throttled = new Set((body.throttled_events as number[]).filter((i) => Number.isInteger(i)));
      return { retry: Array.from({ length: count }, (_, index) => ({ index, afterMs: throttled.has(index) ? hold : 0 })) };
    }
    return undefined;
  },
});
