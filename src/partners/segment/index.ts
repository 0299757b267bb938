import { VERSION } from "../../version.js";
import { type Event, TEST_USER, baseOf, commonSettings, nameMode, parseEvent, toTestUser, userField } from "../analytics-common.js";
import { definePartner } from "../define-partner.js";
import { eventName } from "../event-name.js";

const REGIONS = { us: "https://api.segment.io", eu: "https://events.eu1.segmentapis.com" };
/** Segment drops (answering 200) a batched event larger than this. */
export const SEGMENT_MAX_EVENT_BYTES = 32 * 1024;

function encode(e: Event, mode: "type" | "friendly") {
  const external = userField(e, "external_user_id");
  const anonymous = userField(e, "user_id") ?? userField(e, "device_id");
  return {
    type: "track",
    ...(external ? { userId: external } : anonymous ? { anonymousId: anonymous } : {}),
    event: eventName(e, mode),
    messageId: String(e.id),
    timestamp: new Date(Number(e.time) * 1000).toISOString(),
    properties: { ...(e.properties ?? {}), currents_event_type: String(e.event_type) },
  };
}

/**
 * Segment's HTTP Tracking API (`/v1/batch`, the write key as Basic auth). Segment answers 200
 * even for events it drops, so each event is checked here against Segment's rules first and
 * what it would drop becomes a dead letter with the reason.
 */
export const segment = definePartner({
  id: "segment",
  title: "Segment",
  description: "Streams events to a Segment source (HTTP Tracking API) with its write key.",
  settings: [
    { key: "writeKey", label: "Write key", type: "string", required: true, secret: true, minLength: 16, help: "Segment: Connections > Sources > your HTTP API source > Settings > API Keys." },
    ...commonSettings([{ value: "us", label: "US (api.segment.io)" }, { value: "eu", label: "EU (events.eu1.segmentapis.com)" }]),
  ],
  limits: { maxBatchEvents: 1_000, maxBatchBytes: 400_000 },
  testEventsNote: `Test events go to the Segment user "${TEST_USER}", not to your real users.`,
  endpointOf: (s) => `${baseOf(s, REGIONS)}/v1/batch`,
  testEvent: (event) => toTestUser(event),
  refuse(body, settings) {
    const e = parseEvent(body);
    const m = encode(e, nameMode(settings));
    if (!("userId" in m) && !("anonymousId" in m)) return "Segment would drop it: no userId or anonymousId (external_user_id, user_id or device_id)";
    if (m.event === "") return "Segment would drop it: no event name";
    if (m.messageId.length >= 100) return "Segment would drop it: messageId (the event id) of 100 characters or more";
    const size = Buffer.byteLength(JSON.stringify(m));
    if (size > SEGMENT_MAX_EVENT_BYTES) return `Segment would drop it: ${size} bytes, over Segment's 32 KB per event`;
    return undefined;
  },
  buildRequest(batch, settings, now) {
    const mode = nameMode(settings);
    const events = batch.bodies.length > 0
      ? batch.bodies.map((b) => encode(parseEvent(b), mode))
      : [{ type: "track", userId: TEST_USER, event: "Currents connection check", messageId: `currents-check-${now}`, timestamp: new Date(now).toISOString(), properties: {} }];
    return {
      url: `${baseOf(settings, REGIONS)}/v1/batch`,
      headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from(`${String(settings.writeKey)}:`).toString("base64")}`, "user-agent": `currents/${VERSION}` },
      body: JSON.stringify({ batch: events, sentAt: new Date(now).toISOString() }),
    };
  },
});
