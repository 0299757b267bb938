/**
 * One pass over an ingest body's text, before it is parsed:
 * - how deep it nests (the body object is level 1), so that a body nested thousands of
 *   levels deep is never handed to JSON.parse (5 MB of `[` takes ~2 s to parse) nor to
 *   anything recursive;
 * - where each element of the top-level `"events"` array sits and how deep it nests (the
 *   element itself is level 1), so each event can be stored as the exact text the client
 *   sent (a slice, about 4x cheaper than JSON.stringify) and an event nested too deep can be
 *   refused alone.
 *
 * The scanner trusts nothing: it does not validate JSON (JSON.parse does that next). When the
 * text is ambiguous for it (an escaped character in a top-level key, or `"events"` given
 * twice) `elements` is undefined; the caller then serialises the parsed events instead.
 */
export interface ScannedElement {
  readonly start: number;
  readonly end: number;
  readonly depth: number;
}

export interface BodyScan {
  readonly maxDepth: number;
  readonly elements: ScannedElement[] | undefined;
}

const QUOTE = 34, BACKSLASH = 92, OPEN_OBJ = 123, CLOSE_OBJ = 125, OPEN_ARR = 91, CLOSE_ARR = 93, COMMA = 44;

export function scanBody(text: string): BodyScan {
  let depth = 0;
  let maxDepth = 0;
  let lastTopString: string | null = null;
  let eventsSeen = 0;
  let ambiguous = false;
  let inEvents = false;
  let elements: ScannedElement[] = [];
  let elementStart = -1;
  let elementDepth = 0;
  let lastNonSpace = -1;
  const close = () => {
    if (elementStart >= 0) elements.push({ start: elementStart, end: lastNonSpace + 1, depth: Math.max(1, elementDepth) });
    elementStart = -1;
    elementDepth = 0;
  };
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) continue;
    if (inEvents && depth === 2 && elementStart < 0 && c !== COMMA && c !== CLOSE_ARR) elementStart = i;
    if (c === QUOTE) {
      let j = text.indexOf('"', i + 1);
      while (j > 0 && isEscaped(text, j)) j = text.indexOf('"', j + 1);
      if (j < 0) break; // unterminated: JSON.parse reports it
      if (depth === 1) {
        const s = text.slice(i + 1, j);
        if (s.includes("\\")) ambiguous = true;
        lastTopString = s;
      }
      i = j;
    } else if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (depth === 1 && c === OPEN_ARR && lastTopString === "events") {
        if (++eventsSeen > 1) ambiguous = true;
        inEvents = true;
        elements = [];
      }
      depth++;
      if (depth > maxDepth) maxDepth = depth;
      if (inEvents && depth - 2 > elementDepth) elementDepth = depth - 2;
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      if (inEvents && depth === 2) {
        close();
        inEvents = false;
      }
      depth--;
    } else if (c === COMMA && inEvents && depth === 2) {
      close();
    } else if (c === BACKSLASH) {
      ambiguous = true; // outside a string: not JSON
    }
    lastNonSpace = i;
  }
  return { maxDepth, elements: eventsSeen === 1 && !ambiguous ? elements : undefined };
}

/** True when the quote at `at` is preceded by an odd number of backslashes. */
function isEscaped(text: string, at: number): boolean {
  let k = at - 1;
  while (k >= 0 && text.charCodeAt(k) === 92) k--;
  return (at - 1 - k) % 2 === 1;
}
