import secureJson from "secure-json-parse";
import { validateEvent } from "../catalog/validate-event.js";
import { ClientError } from "../errors.js";
import type { NewEvent, Store } from "../store/port.js";
import { userKeyOf } from "../catalog/user-key.js";
import { scanBody } from "./scan-body.js";

export const MAX_EVENTS_PER_REQUEST = 1_000;
export const MAX_REQUEST_BYTES = 5 * 1024 * 1024;
export const MAX_EVENT_BYTES = 900 * 1024;
/** An event nesting deeper than this (the event object is level 1) is refused. */
export const MAX_EVENT_DEPTH = 64;

export interface IngestResult {
  /** Events acknowledged: stored now, or already stored within the dedupe window. */
  accepted: number;
  /** Of the accepted, how many were already stored (acknowledged again, not stored twice). */
  duplicates: number;
  rejected: Array<{ index: number; id?: string; error: string }>;
  /** Accepted events with catalog-required fields missing (rejected in strict mode). */
  warnings: Array<{ index: number; id: string; type: string; warning: string }>;
}

/** An ingest body, parsed: the events, and for each the text the client sent when it could be sliced. */
export interface IngestBody {
  readonly events: readonly unknown[];
  readonly texts: ReadonlyArray<string | undefined>;
  /** Indexes of events refused before parsing, and why. */
  readonly refused: ReadonlyMap<number, string>;
}

/** Half of a surrogate pair: PostgreSQL's json refuses it, and it is not Unicode text. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const tooDeep = `nested deeper than ${MAX_EVENT_DEPTH} levels; flatten it`;

/**
 * Reads an ingest body's text: its depth and events are measured before anything parses
 * it, so a body nested thousands of levels deep costs one linear scan (an event too deep is
 * refused alone; depth outside the events refuses the request), and a request of more than
 * 1,000 events is a 413 before any parsing; `admit` sees the count before the parse. Then
 * strict JSON (no `__proto__`).
 */
export function parseIngestBody(text: string, admit: (events: number | undefined) => void = () => undefined): IngestBody {
  if (text.trim() === "") throw new ClientError(400, "empty_body", "the body is empty; expected JSON");
  const scan = scanBody(text);
  const elements = scan.elements;
  if (elements && elements.length > MAX_EVENTS_PER_REQUEST) throw tooMany(elements.length);
  // Measured, not parsed yet: the caller may refuse it here (the rate limit), before the parse costs anything.
  admit(elements?.length);
  const refused = new Map<number, string>();
  let parsedText = text;
  if (scan.maxDepth > MAX_EVENT_DEPTH + 2 && elements) {
    // Each event nested too deep is replaced by null before parsing, and refused alone.
    const parts: string[] = [];
    let at = 0;
    elements.forEach((e, index) => {
      if (e.depth <= MAX_EVENT_DEPTH) return;
      refused.set(index, `event is ${tooDeep}`);
      parts.push(text.slice(at, e.start), "null");
      at = e.end;
    });
    parts.push(text.slice(at));
    parsedText = parts.join("");
  }
  // Still too deep once the deep events are out (depth outside the events, or a text the slicer
  // could not read): refused whole, before any parsing.
  if (scan.maxDepth > MAX_EVENT_DEPTH + 2 && scanBody(parsedText).maxDepth > MAX_EVENT_DEPTH + 2) {
    throw new ClientError(400, "too_deep", `the body is ${tooDeep} (at most ${MAX_EVENT_DEPTH} levels inside an event)`);
  }
  let body: unknown;
  try {
    body = secureJson.parse(parsedText, undefined, { protoAction: "error", constructorAction: "error" });
  } catch (error) {
    const message = (error as Error).message;
    const why = /prototype/i.test(message) ? "it contains a forbidden __proto__ or constructor.prototype key" : message;
    throw new ClientError(400, "malformed_json", `the body is not valid JSON: ${why}`);
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ClientError(400, "invalid_envelope", 'the body must be a JSON object {"events": [...]}');
  }
  const events = (body as { events?: unknown }).events;
  if (!Array.isArray(events)) {
    throw new ClientError(400, "invalid_envelope", events === undefined ? 'missing "events": the body must be {"events": [...]}' : '"events" must be an array');
  }
  if (events.length > MAX_EVENTS_PER_REQUEST) throw tooMany(events.length);
  const slices = elements?.length === events.length ? elements : undefined;
  return { events, texts: events.map((_, i) => { const e = slices?.[i]; return e && text.slice(e.start, e.end); }), refused };
}

const tooMany = (n: number) => new ClientError(413, "too_many_events", `${n} events in one request; at most ${MAX_EVENTS_PER_REQUEST} are allowed`);

/** True when a parsed value holds a string (or key) that storage cannot take: a NUL, or half a surrogate pair. */
function unstorableString(value: unknown, depth = 0): string | undefined {
  if (typeof value === "string") return problemOf(value);
  if (value === null || typeof value !== "object" || depth > MAX_EVENT_DEPTH) return undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const p = unstorableString(v, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    const p = problemOf(k) ?? unstorableString(v, depth + 1);
    if (p) return p;
  }
  return undefined;
}

function problemOf(s: string): string | undefined {
  if (s.includes("\u0000")) return "event contains a NUL character (\\u0000), which cannot be stored; remove it";
  if (LONE_SURROGATE.test(s)) return "event contains half of a surrogate pair (a \\ud800-\\udfff escape without its other half, e.g. a cut emoji), which is not valid Unicode; fix the string";
  return undefined;
}

/**
 * Accepts a parsed ingest body for a workspace: validates every event, stores the valid ones
 * durably and says what became of each. Valid events are accepted even when others in the
 * same request are rejected; when every event is rejected the request is a 400 (with the
 * same per-event answer).
 */
export async function ingestEvents(store: Store, workspace: string, body: IngestBody, now: number, options: { strict?: boolean } = {}): Promise<IngestResult> {
  const rejected: IngestResult["rejected"] = [];
  const warnings: IngestResult["warnings"] = [];
  const valid: NewEvent[] = [];
  body.events.forEach((event, index) => {
    const refusal = body.refused.get(index);
    if (refusal) return rejected.push({ index, error: refusal });
    const v = validateEvent(event, options);
    if (!v.ok) return rejected.push(v.id === undefined ? { index, error: v.error } : { index, id: v.id, error: v.error });
    let text = body.texts[index];
    // Escapes are the only way a NUL or a lone surrogate gets into the text.
    const unstorable = text === undefined || text.includes("\\u") ? unstorableString(event) : undefined;
    if (unstorable) return rejected.push({ index, id: v.id, error: unstorable });
    text ??= JSON.stringify(event);
    // A UTF-16 code unit is at most 3 UTF-8 bytes: short texts need no byte count.
    const bytes = text.length * 3 <= MAX_EVENT_BYTES ? 0 : Buffer.byteLength(text);
    if (bytes > MAX_EVENT_BYTES) return rejected.push({ index, id: v.id, error: `event is ${bytes} bytes; at most ${MAX_EVENT_BYTES} are allowed` });
    for (const w of v.warnings) warnings.push({ index, id: v.id, type: v.type, warning: w });
    valid.push({ workspace, id: v.id, type: v.type, body: text, userKey: userKeyOf(event) });
  });
  if (valid.length === 0 && body.events.length > 0) {
    const error = new ClientError(400, "all_rejected", `every event of the request was rejected (${rejected.length}); see "rejected"`);
    error.answer = { accepted: 0, duplicates: 0, rejected, warnings };
    throw error;
  }
  let duplicates = 0;
  if (valid.length > 0) {
    const outcomes = await store.events.append(valid, now);
    for (const o of outcomes) if (o === "duplicate") duplicates++;
  }
  return { accepted: valid.length, duplicates, rejected, warnings };
}
