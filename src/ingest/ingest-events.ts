import { validateEvent } from "../catalog/validate-event.js";
import { ClientError } from "../errors.js";
import type { NewEvent, Store } from "../store/port.js";
import { eventSpans } from "./event-spans.js";

export const MAX_EVENTS_PER_REQUEST = 1_000;
export const MAX_REQUEST_BYTES = 5 * 1024 * 1024;
export const MAX_EVENT_BYTES = 900 * 1024;
/** A \u0000 escape that is not itself an escaped backslash followed by "u0000". */
const NUL_ESCAPE = /(?<!\\)(?:\\\\)*\\u0000/;

export interface IngestResult {
  /** Events acknowledged: stored now, or already stored within the dedupe window. */
  accepted: number;
  /** Of the accepted, how many were already stored (acknowledged again, not stored twice). */
  duplicates: number;
  rejected: Array<{ index: number; id?: string; error: string }>;
}

/**
 * Accepts a decoded ingest body for a workspace: checks the envelope, validates every event,
 * stores the valid ones durably and says what became of each. Valid events are accepted
 * even when others in the same request are rejected.
 */
export async function ingestEvents(store: Store, workspace: string, body: unknown, now: number, raw?: string): Promise<IngestResult> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ClientError(400, "invalid_envelope", 'the body must be a JSON object {"events": [...]}');
  }
  const events = (body as { events?: unknown }).events;
  if (!Array.isArray(events)) {
    throw new ClientError(400, "invalid_envelope", events === undefined ? 'missing "events": the body must be {"events": [...]}' : '"events" must be an array');
  }
  if (events.length > MAX_EVENTS_PER_REQUEST) {
    throw new ClientError(413, "too_many_events", `${events.length} events in one request; at most ${MAX_EVENTS_PER_REQUEST} are allowed`);
  }
  // Each event is stored as the text the client sent when the body can be sliced safely.
  const spans = raw === undefined ? undefined : eventSpans(raw);
  const slices = spans?.length === events.length ? spans : undefined;
  const rejected: IngestResult["rejected"] = [];
  const valid: NewEvent[] = [];
  events.forEach((event, index) => {
    const v = validateEvent(event);
    if (!v.ok) {
      rejected.push(v.id === undefined ? { index, error: v.error } : { index, id: v.id, error: v.error });
      return;
    }
    const span = slices?.[index];
    const text = span ? (raw as string).slice(span[0], span[1]) : JSON.stringify(event);
    // A UTF-16 code unit is at most 3 UTF-8 bytes: short texts need no byte count.
    const bytes = text.length * 3 <= MAX_EVENT_BYTES ? 0 : Buffer.byteLength(text);
    if (text.includes("\\u0000") && NUL_ESCAPE.test(text)) {
      rejected.push({ index, id: v.id, error: "event contains a NUL character (\\u0000), which cannot be stored; remove it" });
      return;
    }
    if (bytes > MAX_EVENT_BYTES) {
      rejected.push({ index, id: v.id, error: `event is ${bytes} bytes; at most ${MAX_EVENT_BYTES} are allowed` });
      return;
    }
    valid.push({ workspace, id: v.id, type: v.type, body: text });
  });
  let duplicates = 0;
  if (valid.length > 0) {
    const outcomes = await store.events.append(valid, now);
    for (const o of outcomes) if (o === "duplicate") duplicates++;
  }
  return { accepted: valid.length, duplicates, rejected };
}
