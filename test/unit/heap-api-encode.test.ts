import { describe, expect, it } from "vitest";
import { allEventTypes } from "../../src/catalog/catalog.js";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { heapApi } from "../../src/partners/heap-api/index.js";
import { UserPropertiesSeen, flattenProperties, heapEventName, heapIdentity, heapTrackEvent, heapUserProperties } from "../../src/partners/heap-api/encode.js";

type Ev = Parameters<typeof heapTrackEvent>[0];
const ev = (type: string, over: Record<string, unknown> = {}) => ({ ...sampleEvent(type, { id: "e-1", time: 1732790000 }), ...over }) as unknown as Ev;

describe("Heap server-side API encoding (not wired yet: see the module's note)", () => {
  it("takes the identity from the chosen field, and none when it is missing, empty or over 255 characters", () => {
    const e = ev("users.messages.email.Open");
    expect(heapIdentity(e, "external_user_id")).toBe((e.user as Record<string, string>).external_user_id);
    expect(heapIdentity(e, "user_id")).toBe((e.user as Record<string, string>).user_id);
    expect(heapIdentity(e, "properties.email_address")).toBe((e.properties as Record<string, string>).email_address);
    expect(heapIdentity({ ...e, user: {} }, "external_user_id")).toBeUndefined();
    expect(heapIdentity({ ...e, user: { external_user_id: "x".repeat(256) } }, "external_user_id")).toBeUndefined();
  });

  it("names events by type or by friendly name, CustomEvents by their own name, with the prefix", () => {
    expect(heapEventName(ev("users.messages.email.Open"), "friendly")).toBe("Email Open");
    expect(heapEventName(ev("users.messages.pushnotification.Send"), "friendly")).toBe("Push Notification Send");
    expect(heapEventName(ev("users.messages.sms.Delivery"), "friendly")).toBe("SMS Delivery");
    expect(heapEventName(ev("users.messages.inappmessage.Click"), "friendly")).toBe("In-App Message Click");
    expect(heapEventName(ev("users.behaviors.Purchase"), "friendly")).toBe("Purchase");
    expect(heapEventName(ev("users.behaviors.app.SessionStart"), "friendly")).toBe("Session Start");
    expect(heapEventName(ev("users.behaviors.subscription.GlobalStateChange"), "friendly")).toBe("Subscription Global State Change");
    const custom = ev("users.behaviors.CustomEvent");
    expect(heapEventName(custom, "friendly", "braze-")).toBe(`braze-${(custom.properties as Record<string, string>).name}`);
    expect(heapEventName(ev("users.messages.email.Open"), "type", "braze-")).toBe("braze-users.messages.email.Open");
  });

  it("flattens properties as Heap takes them: dotted keys, arrays joined, booleans as text, nulls dropped, long values cut and counted", () => {
    const cuts = { keys: 0, values: 0 };
    const flat = flattenProperties({ a: { b: { c: 1 } }, list: ["x", 2, null, true], yes: true, no: false, none: null, long: "y".repeat(2000), n: 3.5 }, cuts);
    expect(flat).toEqual({ "a.b.c": 1, list: "x||2||true", yes: "true", no: "false", long: "y".repeat(1023), n: 3.5 });
    expect(cuts).toEqual({ keys: 0, values: 1 });
  });

  it("encodes a bulk-track event: ISO timestamp, the event id as idempotency key, Currents' own properties; no identity is a reason", () => {
    const cuts = { keys: 0, values: 0 };
    const e = ev("users.behaviors.Purchase");
    const r = heapTrackEvent(e, { identity: "external_user_id", eventNames: "friendly" }, cuts);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.event).toMatchObject({ event: "Purchase", timestamp: "2024-11-28T10:33:20.000Z", idempotency_key: "e-1" });
      expect(r.event.properties).toMatchObject({ currents_event_type: "users.behaviors.Purchase", currents_event_id: "e-1" });
      expect(Object.keys(r.event.properties).some((k) => k.startsWith("purchase_properties."))).toBe(true);
    }
    expect(heapTrackEvent({ ...e, user: {} }, { identity: "external_user_id", eventNames: "type" }, cuts)).toEqual({ ok: false, reason: "no identity (external_user_id)" });
  });

  it("encodes a sample of every catalog type within Heap's rules", () => {
    const cuts = { keys: 0, values: 0 };
    for (const d of allEventTypes()) {
      const e = ev(d.type);
      const r = heapTrackEvent(e, { identity: "user_id", eventNames: "friendly" }, cuts);
      // Types without a user (e.g. agent console runs) have no identity: a dead letter by reason, never a guess.
      expect(r.ok, d.type).toBe(typeof (e.user as Record<string, unknown> | undefined)?.user_id === "string");
      if (!r.ok) continue;
      expect(r.event.event.length, d.type).toBeGreaterThan(0);
      expect(r.event.event.length).toBeLessThanOrEqual(1024);
      for (const v of Object.values(r.event.properties)) expect(typeof v === "number" || (typeof v === "string" && v.length < 1024), d.type).toBe(true);
    }
  });

  it("sends user properties only when they changed (never an id key)", () => {
    const e = ev("users.messages.email.Open");
    const props = heapUserProperties(e, { "properties.email_address": "email", "user.timezone": "timezone", "user.user_id": "ID" });
    expect(props).toEqual({ email: (e.properties as Record<string, string>).email_address, timezone: "America/Chicago" });
    const seen = new UserPropertiesSeen(2);
    expect(seen.changed("u1", props ?? {})).toBe(true);
    expect(seen.changed("u1", { ...props })).toBe(false);
    expect(seen.changed("u1", { ...props, timezone: "Europe/Paris" })).toBe(true);
    expect(seen.changed("u2", { a: 1 })).toBe(true);
    expect(seen.changed("u3", { a: 1 })).toBe(true); // u1 forgotten (bounded)
    expect(seen.changed("u1", { ...props, timezone: "Europe/Paris" })).toBe(true);
  });

  it("claims a user's changed properties for one batch at a time; an absent property is no change", () => {
    const seen = new UserPropertiesSeen(10, 1_000);
    expect(seen.claim("u1", { email: "a@x" }, "batch-1", 0)).toBe(true);
    expect(seen.claim("u1", { email: "a@x" }, "batch-2", 10)).toBe(false); // batch-1 carries it
    expect(seen.claim("u1", { email: "a@x" }, "batch-1", 20)).toBe(true); // batch-1's retry carries it again
    expect(seen.claim("u1", { email: "a@x" }, "batch-3", 1_100)).toBe(true); // batch-1 never landed: the claim lapsed
    seen.remember("u1", { email: "a@x", timezone: "UTC" });
    expect(seen.claim("u1", { timezone: "UTC" }, "batch-4", 1_200)).toBe(false);
    expect(seen.claim("u1", { email: "b@x" }, "batch-4", 1_200)).toBe(true);
  });

  it("sends to the region's URL, or to the base URL that replaces it; names an identity Heap cannot take", () => {
    const e = ev("users.messages.email.Open");
    const body = JSON.stringify(e);
    const url = (settings: Record<string, unknown>) => heapApi.buildRequest({ bodies: [body], idempotencyKey: "k" }, { appId: "1", ...settings }, 0).url;
    expect(url({})).toBe("https://heapanalytics.com/api/track");
    expect(url({ region: "eu" })).toBe("https://c.eu.heap-api.com/api/track");
    expect(url({ region: "eu", baseUrl: "https://proxy.example.com/heap/" })).toBe("https://proxy.example.com/heap/api/track");
    const before = heapApi.buildRequest({ bodies: [body], idempotencyKey: "k" }, { appId: "1", region: "eu" }, 0, heapApi.createState?.()).before?.[0];
    expect(before?.url).toBe("https://c.eu.heap-api.com/api/add_user_properties");
    expect(JSON.parse(String(before?.body))).toMatchObject({ app_id: "1", users: [{ identity: (e.user as Record<string, string>).external_user_id }] });
    const long = JSON.stringify({ ...e, user: { external_user_id: "x".repeat(256) } });
    expect(heapApi.refuse?.(long, { appId: "1" })).toBe("identity longer than 255 characters (external_user_id)");
    expect(heapApi.refuse?.(JSON.stringify({ ...e, user: {} }), { appId: "1", identity: "user_id" })).toBe("no identity (user_id)");
    expect(heapApi.refuse?.(body, { appId: "1" })).toBeUndefined();
  });
});
