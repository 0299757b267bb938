import { describe, expect, it } from "vitest";
import { allEventTypes, eventTypesByGroup } from "../../src/catalog/catalog.js";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { validateEvent } from "../../src/catalog/validate-event.js";

describe("event validation", () => {
  it("accepts a sample of every catalog type, with and without optional fields", () => {
    for (const def of allEventTypes()) {
      expect(validateEvent(sampleEvent(def.type)), def.type).toMatchObject({ ok: true });
      expect(validateEvent(sampleEvent(def.type, { optional: false })), def.type).toMatchObject({ ok: true });
    }
  });

  it("serves the three groups and Currents' extension group, marked as such, with every type once", () => {
    const groups = eventTypesByGroup().groups;
    expect(groups.map((g) => [g.id, g.extension])).toEqual([["message_engagement", false], ["customer_behavior", false], ["user", false], ["currents_extension", true]]);
    expect(groups.reduce((n, g) => n + g.eventTypes.length, 0)).toBe(allEventTypes().length);
  });

  it("serves an event dictionary: each type's fields (type, required, location, PII) and an example that validates strictly", () => {
    for (const g of eventTypesByGroup().groups) {
      for (const t of g.eventTypes) {
        expect(t.fields.length, t.type).toBeGreaterThan(0);
        for (const f of t.fields) expect(f).toEqual({ name: expect.any(String), type: expect.any(String), required: expect.any(Boolean), location: expect.any(String), pii: expect.any(Boolean) });
        expect(validateEvent(t.example, { strict: true }), t.type).toMatchObject({ ok: true });
      }
    }
    const send = eventTypesByGroup().groups[0]?.eventTypes.find((t) => t.type === "users.messages.email.Send");
    expect(send?.fields.find((f) => f.name === "email_address")).toEqual({ name: "email_address", type: "string", required: true, location: "properties", pii: true });
  });

  it("keeps unknown extra fields", () => {
    const e = { ...sampleEvent("users.messages.email.Open"), extra_top: 1, properties: { ...(sampleEvent("users.messages.email.Open").properties as object), new_field: "x" } };
    expect(validateEvent(e)).toMatchObject({ ok: true });
  });

  it.each([
    [{ id: "a", time: 1 }, "missing required field event_type"],
    [{ event_type: "users.nope", id: "a", time: 1 }, 'unknown event_type "users.nope"'],
    [{ ...sampleEvent("users.messages.email.Send"), id: undefined }, "missing required field id"],
    [{ ...sampleEvent("users.messages.email.Send"), time: "yesterday" }, "time"],
    [{ ...sampleEvent("users.messages.email.Send"), time: 1.5 }, "time"],
    [{ ...sampleEvent("users.messages.email.Send"), user: "u1" }, "user"],
    [{ ...sampleEvent("users.messages.email.Send"), time: 1_732_790_000_000 }, "time: 1732790000000 looks like milliseconds"],
    [{ ...sampleEvent("users.messages.email.Send"), properties: { ...(sampleEvent("users.messages.email.Send").properties as object), email_address: 42 } }, "properties.email_address"],
    [[1, 2], "event must be a JSON object"],
    [null, "event must be a JSON object"],
  ])("rejects %j naming the problem", (event, message) => {
    const v = validateEvent(event);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.error).toContain(message);
  });

  it("warns of a missing catalog-required field by default, refuses it in strict mode, and names every problem", () => {
    const drifted = { ...sampleEvent("users.messages.email.Send"), user: {} };
    expect(validateEvent(drifted)).toMatchObject({ ok: true, warnings: ["missing catalog-required field user.user_id"] });
    expect(validateEvent(drifted, { strict: true })).toMatchObject({ ok: false, error: "missing catalog-required field user.user_id" });
    const many = { ...drifted, time: "now", properties: { ...((drifted as Record<string, unknown>).properties as object), email_address: 1, campaign_id: [] } };
    const v = validateEvent(many, { strict: true });
    expect(v.ok).toBe(false);
    if (!v.ok) for (const p of ["time:", "properties.email_address:", "properties.campaign_id:", "user.user_id"]) expect(v.error).toContain(p);
    // A version-less in-app message Abort, as real producers send it, is valid (catalog corrected).
    const abort = sampleEvent("users.messages.inappmessage.Abort");
    delete (abort.properties as Record<string, unknown>).version;
    expect(validateEvent(abort, { strict: true })).toMatchObject({ ok: true, warnings: [] });
  });

  it("wants the nested custom properties object of a custom event", () => {
    const e = sampleEvent("users.behaviors.CustomEvent");
    expect((e.properties as Record<string, unknown>).custom_properties).toBeTypeOf("object");
    const bad = { ...e, properties: { ...(e.properties as object), custom_properties: "x" } };
    expect(validateEvent(bad).ok).toBe(false);
  });
});
