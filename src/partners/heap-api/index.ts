import { VERSION } from "../../version.js";
import { baseOf } from "../analytics-common.js";
import { definePartner, type OutgoingRequest, type ResolvedSettings } from "../define-partner.js";
import {
  type Cuts, DEFAULT_USER_PROPERTIES, type HeapEncodeSettings, type HeapTrackEvent, UserPropertiesSeen, heapIdentity, heapTrackEvent, heapUserProperties, identityProblem,
} from "./encode.js";

/** Heap's bases per region (SPEC section 11). */
export const HEAP_REGIONS: Readonly<Record<string, string>> = { us: "https://heapanalytics.com", eu: "https://c.eu.heap-api.com" };
/** The identity test events and the connection check go to, so no real user is touched. */
export const HEAP_TEST_IDENTITY = "currents-test";

type Json = Parameters<typeof heapTrackEvent>[0];

const base = (s: Readonly<Record<string, unknown>>) => baseOf(s, HEAP_REGIONS);

const encodeSettings = (s: ResolvedSettings): HeapEncodeSettings => ({
  identity: typeof s.identity === "string" && s.identity !== "" ? s.identity : "external_user_id",
  eventNames: s.eventNames === "friendly" ? "friendly" : "type",
  prefix: typeof s.prefix === "string" ? s.prefix : "",
});

const userFields = (s: ResolvedSettings) =>
  (s.userProperties !== null && typeof s.userProperties === "object" ? s.userProperties : DEFAULT_USER_PROPERTIES) as Readonly<Record<string, string>>;

const post = (url: string, body: unknown): OutgoingRequest => ({
  url,
  headers: { "content-type": "application/json", "user-agent": `currents/${VERSION}` },
  body: JSON.stringify(body),
});

/** The path of a property in an event, e.g. "user.external_user_id", set to `value` (objects created as needed). */
function setPath(event: Record<string, unknown>, path: string[], value: string): void {
  let at = event;
  for (const k of path.slice(0, -1)) {
    const next = at[k];
    at = (at[k] = next !== null && typeof next === "object" && !Array.isArray(next) ? next : {}) as Record<string, unknown>;
  }
  at[path[path.length - 1] as string] = value;
}

/**
 * Heap's server-side API with only an App ID (SPEC section 11, PARTNER-FORMATS.md section 6):
 * bulk track of up to 1,000 events, user properties in bulk when they changed, Heap's limits
 * kept on this side (15,000 events a minute per app, 1,000 per identity).
 */
export const heapApi = definePartner({
  id: "heap_api",
  title: "Heap (server-side API)",
  description: "Streams events to Heap's server-side API with only your Heap App ID; events attach to the user named by the identity field.",
  settings: [
    { key: "appId", label: "App ID", type: "string", required: true, secret: false, pattern: "^[0-9]{1,20}$", patternHelp: "must be the digits of your Heap App ID (Account > Manage > Projects, the environment id), e.g. 1234567890", help: "Your Heap environment's App ID (digits)." },
    { key: "region", label: "Region", type: "choice", required: false, secret: false, default: "us", choices: [{ value: "us", label: "US (heapanalytics.com)" }, { value: "eu", label: "EU (c.eu.heap-api.com)" }], help: "Where your Heap account's data lives." },
    { key: "identity", label: "Identity field", type: "string", required: false, secret: false, default: "external_user_id", pattern: "^(external_user_id|user_id|[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)+)$", patternHelp: "must be external_user_id, user_id, or a field path such as properties.email_address", help: "Which event field names the user in Heap: external_user_id, user_id, or a path like properties.email_address." },
    { key: "eventNames", label: "Event names", type: "choice", required: false, secret: false, default: "type", choices: [{ value: "type", label: "The event type (users.messages.email.Open)" }, { value: "friendly", label: "Friendly names (Email Open)" }], help: "How events are named in Heap." },
    { key: "prefix", label: "Event name prefix", type: "string", required: false, secret: false, pattern: "^[^\\x00-\\x1f]{1,64}$", patternHelp: "must be at most 64 characters, without control characters", help: "Optional, e.g. braze- to tell these events apart in Heap." },
    { key: "userProperties", label: "User properties", type: "fieldMap", required: false, secret: false, default: DEFAULT_USER_PROPERTIES, help: "Event fields sent to Heap as user properties (field path = Heap name); sent only when they change. A lowercase email fills Heap's Email." },
    { key: "appEventsPerMinute", label: "Events per minute (app)", type: "number", required: false, secret: false, default: 15_000, min: 1, max: 10_000_000, help: "Heap's limit per App ID; raise it only if your Heap plan allows more." },
    { key: "identityEventsPerMinute", label: "Events per minute (identity)", type: "number", required: false, secret: false, default: 1_000, min: 1, max: 1_000_000, help: "Heap's limit per user; a user above it is slowed alone." },
    { key: "baseUrl", label: "Base URL", type: "url", required: false, secret: false, help: "Optional: replaces the region's URL (a proxy or a test double)." },
  ],
  limits: { maxBatchEvents: 1000, maxBatchBytes: 5_000_000 },
  testEventsNote: `Test events go to the Heap user "${HEAP_TEST_IDENTITY}", not to your real users.`,
  createState: () => new UserPropertiesSeen(),
  endpointOf: (s) => `${base(s)}/api/track`,
  refuse(body, settings) {
    const s = encodeSettings(settings);
    return identityProblem(JSON.parse(body) as Json, s.identity);
  },
  rateLimit(settings) {
    const s = encodeSettings(settings);
    return {
      perMinute: Number(settings.appEventsPerMinute ?? 15_000),
      perKeyPerMinute: Number(settings.identityEventsPerMinute ?? 1_000),
      keyOf: (body) => heapIdentity(JSON.parse(body) as Json, s.identity),
    };
  },
  testEvent(event, settings) {
    const { identity } = encodeSettings(settings);
    setPath(event, identity === "external_user_id" || identity === "user_id" ? ["user", identity] : identity.split("."), HEAP_TEST_IDENTITY);
    return event;
  },
  buildRequest(batch, settings, now, state) {
    const appId = String(settings.appId);
    const s = encodeSettings(settings);
    const cuts: Cuts = { keys: 0, values: 0 };
    const events: HeapTrackEvent[] = [];
    const users = new Map<string, Record<string, string | number>>();
    const seen = state instanceof UserPropertiesSeen ? state : undefined;
    for (const body of batch.bodies) {
      const event = JSON.parse(body) as Json & Record<string, Json>;
      const encoded = heapTrackEvent(event, s, cuts);
      // Live delivery refuses these first (dead letters); a one-off request cannot carry them.
      if (!encoded.ok) throw new Error(`event ${String(event.id)}: ${encoded.reason}`);
      events.push(encoded.event);
      const props = heapUserProperties(event, userFields(settings));
      if (props) users.set(encoded.event.identity, props); // the last of a batch wins
    }
    for (const [identity, props] of users) {
      if (seen && !seen.claim(identity, props, batch.idempotencyKey, now)) users.delete(identity);
    }
    if (batch.bodies.length === 0) {
      // The connection check: one event to the test identity (an empty bulk's answer is not documented).
      events.push({ identity: HEAP_TEST_IDENTITY, event: `${s.prefix ?? ""}Currents connection check`, timestamp: new Date(now).toISOString(), idempotency_key: `currents-check-${now}`, properties: { currents_connection_check: "true" } });
    }
    const track = post(`${base(settings)}/api/track`, { app_id: appId, events });
    const list = [...users].map(([identity, properties]) => ({ identity, properties }));
    return {
      ...track,
      ...(list.length > 0 ? { before: [post(`${base(settings)}/api/add_user_properties`, { app_id: appId, users: list })] } : {}),
      onDelivered: () => { for (const u of list) seen?.remember(u.identity, u.properties); },
      valuesCut: cuts.keys + cuts.values,
    };
  },
});
