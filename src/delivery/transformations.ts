import { createHash } from "node:crypto";
import type { Transformation } from "../currents/model.js";

/** The value a *Remove* transformation writes. */
export const REDACTED = "[REDACTED]";

/** Where a value sits in the event text: `[start, end)`, and the key's holder. */
interface ValueSpan {
  readonly start: number;
  readonly end: number;
  readonly holder: "top" | "user" | "properties";
  readonly key: string;
}

/**
 * Applies a Current's field transformations to one event: JSON text in, JSON text out. A
 * field is looked up where the catalog puts fields: at the top (never `id`, `event_type` or
 * `time`), under `user`, under `properties`. Only the transformed values change: every other
 * byte of the event goes out as it was received (big numbers, `1e400`, key order, duplicate
 * keys, spacing), as SPEC section 3 promises. Events without the field pass unchanged.
 * Throws when the text is not a JSON object (the caller dead-letters that event).
 */
export function applyTransformations(body: string, transformations: readonly Transformation[]): string {
  if (transformations.length === 0) return body;
  const actions = new Map(transformations.map((t) => [t.field, t.action]));
  const spans = valueSpans(body).filter((s) => actions.has(s.key) && !(s.holder === "top" && (s.key === "id" || s.key === "event_type" || s.key === "time")));
  if (spans.length === 0) return body;
  let out = "";
  let at = 0;
  for (const s of spans) {
    const raw = body.slice(s.start, s.end);
    if (raw === "null") continue;
    out += body.slice(at, s.start) + transformValue(raw, actions.get(s.key) as Transformation["action"]);
    at = s.end;
  }
  return out + body.slice(at);
}

function transformValue(raw: string, action: Transformation["action"]): string {
  if (action === "remove") return JSON.stringify(REDACTED);
  // A string is hashed as its characters; anything else as the JSON text it was sent as.
  const text = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
  return JSON.stringify(createHash("sha256").update(text, "utf8").digest("hex"));
}

/**
 * The values of the keys at the top of an event object and directly under its `user` and
 * `properties` objects, in text order. One pass, no recursion (depth is not a risk).
 */
export function valueSpans(text: string): ValueSpan[] {
  const spans: ValueSpan[] = [];
  // Per open container: is it an object, which holder its keys belong to (if any), the pending key.
  const stack: Array<{ object: boolean; holder: ValueSpan["holder"] | null; key: string | null; valueStart: number }> = [];
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 123) throw new Error("the event is not a JSON object");
  const n = text.length;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) continue;
    const top = stack[stack.length - 1];
    if (c === 34) {
      const end = stringEnd(text, i);
      if (top?.object && top.key === null && expectsKey(text, i)) {
        const rawKey = text.slice(i + 1, end - 1);
        top.key = rawKey.includes("\\") ? (JSON.parse(text.slice(i, end)) as string) : rawKey;
        i = end - 1;
        continue;
      }
      if (top?.holder && top.key !== null && top.valueStart === i) closeValue(spans, top, end);
      i = end - 1;
    } else if (c === 58) { // ':' value starts next
      if (top) top.valueStart = skipSpace(text, i + 1);
    } else if (c === 123 || c === 91) {
      const holder: ValueSpan["holder"] | null = stack.length === 0 ? "top"
        : stack.length === 1 && c === 123 && (top?.key === "user" || top?.key === "properties") && top.valueStart === i ? top.key : null;
      stack.push({ object: c === 123, holder, key: null, valueStart: -1 });
    } else if (c === 125 || c === 93) {
      if (top?.holder && top.key !== null && top.valueStart >= 0) closeValueAt(spans, top, text, i);
      stack.pop();
      const parent = stack[stack.length - 1];
      if (parent?.holder && parent.key !== null && parent.valueStart >= 0) closeValueAt(spans, parent, text, i + 1);
      if (stack.length === 0) break;
    } else if (c === 44) { // ',' next key
      if (top) {
        if (top.holder && top.key !== null && top.valueStart >= 0) closeValueAt(spans, top, text, i);
        top.key = null;
        top.valueStart = -1;
      }
    }
  }
  return spans;
}

/** A string or container value ended at `end` (exclusive). */
function closeValue(spans: ValueSpan[], top: { holder: ValueSpan["holder"] | null; key: string | null; valueStart: number }, end: number): void {
  spans.push({ start: top.valueStart, end, holder: top.holder as ValueSpan["holder"], key: top.key as string });
  top.valueStart = -2; // recorded
}

/** A scalar (number, true, false, null) or container value ends before `at` (trailing space trimmed). */
function closeValueAt(spans: ValueSpan[], top: { holder: ValueSpan["holder"] | null; key: string | null; valueStart: number }, text: string, at: number): void {
  if (top.valueStart < 0) return;
  let end = at;
  while (end > top.valueStart && /\s/.test(text[end - 1] as string)) end--;
  const first = text.charCodeAt(top.valueStart);
  // Containers close at their bracket (at = index after it); scalars close at ',' or '}'.
  if ((first === 123 || first === 91) && text.charCodeAt(end - 1) !== 125 && text.charCodeAt(end - 1) !== 93) return;
  closeValue(spans, top, end);
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && /\s/.test(text[i] as string)) i++;
  return i;
}

/** Index just after the closing quote of the string opening at `i`. */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) throw new Error("unterminated string in the event");
    let k = q - 1;
    while (text.charCodeAt(k) === 92) k--;
    if ((q - 1 - k) % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** True when the string at `i` is in key position (after '{' or ','). */
function expectsKey(text: string, i: number): boolean {
  let k = i - 1;
  while (k >= 0 && /\s/.test(text[k] as string)) k--;
  const c = text.charCodeAt(k);
  return c === 123 || c === 44;
}
