import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseIngestBody } from "../../src/ingest/ingest-events.js";
import { scanBody } from "../../src/ingest/scan-body.js";

const slices = (text: string) => scanBody(text).elements?.map((e) => text.slice(e.start, e.end));

/** Nesting depth of a parsed value (a scalar is 0, `{}` and `[]` are 1). */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== "object") return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...children.map(depthOf));
}

describe("scanBody", () => {
  it("slices each event of the top-level array exactly as sent", () => {
    const text = '{ "meta": {"events": [1]}, "events" : [ {"id":"a","p":{"x":[1,2,"]"]}} ,\n {"id":"b\\"}"} , 7, "s,t", null ] }';
    expect(slices(text)).toEqual(['{"id":"a","p":{"x":[1,2,"]"]}}', '{"id":"b\\"}"}', "7", '"s,t"', "null"]);
    expect(scanBody(text).elements?.map((e) => e.depth)).toEqual([3, 1, 1, 1, 1]);
    expect(slices('{"events":[]}')).toEqual([]);
  });

  it("agrees with JSON.parse on any body, however it is formatted: slices and depths", () => {
    fc.assert(fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), fc.jsonValue(), fc.constantFrom(undefined, 1, 2, "\t"), (events, other, indent) => {
      const text = JSON.stringify({ other, events, after: other }, null, indent);
      const scan = scanBody(text);
      expect(scan.maxDepth).toBe(depthOf(JSON.parse(text)));
      const got = slices(text);
      if (got === undefined) return; // ambiguous texts fall back to serialising: never wrong
      expect(got.map((s) => JSON.parse(s) as unknown)).toEqual(JSON.parse(text).events);
      expect(scan.elements?.map((e) => Math.max(1, e.depth))).toEqual(events.map((e) => Math.max(1, depthOf(e))));
    }), { numRuns: 500 });
  });

  it("measures a body nested millions of levels deep without parsing it", () => {
    const n = 1_000_000;
    const text = `{"events":[{"id":"ok"},${"[".repeat(n)}${"]".repeat(n)}]}`;
    const scan = scanBody(text);
    expect(scan.maxDepth).toBe(n + 2);
    expect(scan.elements?.map((e) => e.depth)).toEqual([1, n]);
  });

  it("gives no slices (undefined) where JSON.parse could see another array, but still measures depth", () => {
    expect(scanBody('{"events":[{"id":"a"}],"events":[{"id":"b"}]}').elements).toBeUndefined();
    expect(scanBody('{"ev\\u0065nts":[{"id":"b"}],"events":[{"id":"a"}]}')).toEqual({ maxDepth: 3, elements: undefined });
    expect(scanBody('{"other":[1]}').elements).toBeUndefined();
  });
});

describe("parseIngestBody refuses prototype keys however they are spelled", () => {
  const refused = [
    '{"events":[{"__proto__":{"polluted":true}}]}',
    '{"events":[{"\\u005f\\u005fproto\\u005f\\u005f":{"polluted":true}}]}',
    '{"events":[{"_\\u005Fproto__":{"x":1}}]}',
    '{"events":[{"constructor":{"prototype":{"x":1}}}]}',
    '{"events":[{"\\u0063onstructor":{"prototype":{"x":1}}}]}',
    '{"events":[{"constructor":{"\\u0070rototype":{"x":1}}}]}',
  ];
  it.each(refused)("%s", (text) => {
    expect(() => parseIngestBody(text)).toThrow(/__proto__|constructor/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("takes ordinary bodies, with and without escapes, as JSON.parse reads them", () => {
    for (const text of ['{"events":[{"id":"a","p":{"protocol":"x"}}]}', '{"events":[{"id":"caf\\u00e9","p":{"constructed":1}}]}']) {
      expect(parseIngestBody(text).events).toEqual(JSON.parse(text).events);
    }
  });
});
