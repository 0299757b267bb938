import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { eventSpans } from "../../src/ingest/event-spans.js";

const slices = (text: string) => eventSpans(text)?.map(([a, b]) => text.slice(a, b));

describe("eventSpans", () => {
  it("slices each event of the top-level array exactly as sent", () => {
    const text = '{ "meta": {"events": [1]}, "events" : [ {"id":"a","p":{"x":[1,2,"]"]}} ,\n {"id":"b\\"}"} , 7, "s,t", null ] }';
    expect(slices(text)).toEqual(['{"id":"a","p":{"x":[1,2,"]"]}}', '{"id":"b\\"}"}', "7", '"s,t"', "null"]);
    expect(slices('{"events":[]}')).toEqual([]);
  });

  it("agrees with JSON.parse on any body, however it is formatted", () => {
    fc.assert(fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), fc.jsonValue(), fc.constantFrom(undefined, 1, 2, "\t"), (events, other, indent) => {
      const text = JSON.stringify({ other, events, after: other }, null, indent);
      const got = slices(text);
      if (got === undefined) return; // ambiguous texts fall back to serialising: never wrong
      expect(got.map((s) => JSON.parse(s) as unknown)).toEqual(JSON.parse(text).events);
    }), { numRuns: 500 });
  });

  it("gives up (undefined) where JSON.parse could see another array", () => {
    expect(eventSpans('{"events":[{"id":"a"}],"events":[{"id":"b"}]}')).toBeUndefined();
    expect(eventSpans('{"ev\\u0065nts":[{"id":"b"}],"events":[{"id":"a"}]}')).toBeUndefined();
    expect(eventSpans('{"other":[1]}')).toBeUndefined();
  });
});
