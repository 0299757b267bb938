import fc from "fast-check";
import { describe, expect, it } from "vitest";
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
