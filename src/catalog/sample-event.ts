import { randomUUID } from "node:crypto";
import { eventTypeDefinition } from "./catalog.js";
import type { FieldDefinition } from "./types.js";

function sampleValue(field: FieldDefinition, n: number): unknown {
  switch (field.type) {
    case "int":
    case "long": return n;
    case "float": return n + 0.5;
    case "boolean": return n % 2 === 0;
    case "array<string>": return [`${field.name}_a`, `${field.name}_b`];
    case "array<double>": return [1.5, 2.5];
    case "array<long>": return [1, 2];
    case "array<boolean>": return [true, false];
    default:
      if (/email/.test(field.name)) return `user${n}@example.com`;
      if (/phone/.test(field.name)) return `+1555000${String(n).padStart(4, "0")}`;
      if (field.name === "timezone") return "America/Chicago";
      if (field.name === "platform") return "ios";
      return `${field.name}_${n}`;
  }
}

export interface SampleOptions {
  readonly id?: string;
  readonly time?: number;
  /** Varies the values (user ids, counters...). */
  readonly n?: number;
  /** Include the optional fields too. @defaultValue true */
  readonly optional?: boolean;
  /** Extra properties merged in (e.g. a marker for test events). */
  readonly extraProperties?: Record<string, unknown>;
}

/** A valid event of `type`, built from the catalog: every required field, and the optional ones. */
export function sampleEvent(type: string, options: SampleOptions = {}): Record<string, unknown> {
  const def = eventTypeDefinition(type);
  if (!def) throw new Error(`unknown event type ${type}`);
  const n = options.n ?? 1;
  const event: Record<string, unknown> = {
    event_type: type,
    id: options.id ?? randomUUID(),
    time: options.time ?? Math.floor(Date.now() / 1000),
  };
  const user: Record<string, unknown> = {};
  const properties: Record<string, unknown> = {};
  for (const f of def.fields) {
    if (!f.required && options.optional === false) continue;
    if (f.location === "top") continue;
    if (f.location === "user") user[f.name] = f.name === "user_id" ? `user-${n}` : sampleValue(f, n);
    else if (f.location === "properties") properties[f.name] = sampleValue(f, n);
    else if (f.location === "properties.custom_properties") properties.custom_properties = { plan: "gold", visits: n };
    else if (f.location === "properties.purchase_properties") properties.purchase_properties = { color: "red", size: n };
  }
  if (Object.keys(user).length > 0) event.user = user;
  Object.assign(properties, options.extraProperties);
  if (Object.keys(properties).length > 0) event.properties = properties;
  return event;
}
