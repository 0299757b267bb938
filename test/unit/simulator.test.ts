import { describe, expect, it } from "vitest";
import { eventTypeDefinition } from "../../src/catalog/catalog.js";
import { validateEvent } from "../../src/catalog/validate-event.js";
import { EngagementSimulator } from "../../src/simulator/simulator.js";

describe("engagement simulator", () => {
  const events = new EngagementSimulator({ seed: 7, users: 300 }).next(20_000);

  it("makes only events that validate against the catalog", () => {
    const bad = events.map((e) => ({ e, v: validateEvent(e) })).filter((x) => !x.v.ok);
    expect(bad.slice(0, 3).map((x) => [x.e.event_type, !x.v.ok && x.v.error])).toEqual([]);
  });

  it("models funnels, not noise: sends outnumber deliveries, deliveries opens, opens clicks", () => {
    const count = (t: string) => events.filter((e) => e.event_type === t).length;
    const types = new Set(events.map((e) => e.event_type as string));
    expect(types.size).toBeGreaterThanOrEqual(25);
    for (const t of types) expect(eventTypeDefinition(t), t).toBeDefined();
    expect(count("users.messages.email.Send")).toBeGreaterThan(count("users.messages.email.Delivery"));
    expect(count("users.messages.email.Delivery")).toBeGreaterThan(count("users.messages.email.Open"));
    expect(count("users.messages.email.Open")).toBeGreaterThan(count("users.messages.email.Click"));
    expect(count("users.behaviors.app.SessionStart")).toBe(count("users.behaviors.app.SessionEnd"));
    expect(count("users.behaviors.Purchase")).toBeGreaterThan(0);
  });

  it("links a funnel's events by user and dispatch, across time zones and platforms", () => {
    const sends = events.filter((e) => e.event_type === "users.messages.email.Send");
    const opens = events.filter((e) => e.event_type === "users.messages.email.Open");
    const dispatch = (e: Record<string, unknown>) => (e.properties as Record<string, unknown>).dispatch_id;
    const sendDispatches = new Set(sends.map(dispatch));
    expect(opens.every((o) => sendDispatches.has(dispatch(o)))).toBe(true);
    const tz = new Set(events.map((e) => (e.user as Record<string, unknown> | undefined)?.timezone).filter(Boolean));
    expect(tz.size).toBeGreaterThanOrEqual(5);
    const purchases = events.filter((e) => e.event_type === "users.behaviors.Purchase");
    expect(new Set(purchases.map((p) => (p.properties as Record<string, unknown>).currency)).size).toBeGreaterThan(1);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });
});
