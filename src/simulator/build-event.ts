import { randomUUID } from "node:crypto";
import { eventTypeDefinition } from "../catalog/catalog.js";
import type { FieldDefinition } from "../catalog/types.js";

/** Values a simulated event draws its fields from (user, message, app...). */
export type EventContext = Readonly<Record<string, unknown>>;

function fallback(field: FieldDefinition, rnd: () => number): unknown {
  switch (field.type) {
    case "int":
    case "long": return Math.floor(rnd() * 1000);
    case "float": return Math.round(rnd() * 10000) / 100;
    case "boolean": return rnd() < 0.5;
    case "array<string>": return [];
    case "array<double>":
    case "array<long>":
    case "array<boolean>": return [];
    default: return `${field.name}-${Math.floor(rnd() * 1e6).toString(36)}`;
  }
}

/**
 * Builds an event of `type` whose fields come from the context where it has them (so a
 * funnel's events share user, campaign and dispatch ids), and from type-correct values
 * for required fields it lacks. Optional fields the context lacks are left out.
 */
export function buildEvent(type: string, ctx: EventContext, time: number, rnd: () => number): Record<string, unknown> {
  const def = eventTypeDefinition(type);
  if (!def) throw new Error(`unknown event type ${type}`);
  const user: Record<string, unknown> = {};
  const properties: Record<string, unknown> = {};
  for (const f of def.fields) {
    if (f.location === "top") continue;
    const has = Object.hasOwn(ctx, f.name) && ctx[f.name] !== undefined;
    if (!has && !f.required) continue;
    if (f.location === "properties.custom_properties") properties.custom_properties = ctx.custom_properties ?? {};
    else if (f.location === "properties.purchase_properties") properties.purchase_properties = ctx.purchase_properties ?? {};
    else (f.location === "user" ? user : properties)[f.name] = has ? ctx[f.name] : fallback(f, rnd);
  }
  const event: Record<string, unknown> = { event_type: type, id: randomUUID(), time };
  if (Object.keys(user).length > 0) event.user = user;
  if (Object.keys(properties).length > 0) event.properties = properties;
  return event;
}
