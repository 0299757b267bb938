import { Type, type TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { eventTypeDefinitions } from "./catalog.generated.js";
import type { EventTypeDefinition, FieldDefinition } from "./types.js";

/**
 * Event validation with one compiled validator per event type (TypeBox's TypeCompiler).
 *
 * Rules (SPEC section 3): `event_type` (a known type), `id` (non-empty string) and `time`
 * (integer UNIX seconds) are required; `user` and `properties` are objects; every field the
 * catalog marks required must be present and non-null; every known field must have the
 * catalog's type (optional fields may also be `null`, as exports of this format carry them);
 * unknown extra fields pass through untouched.
 */

function valueSchema(field: FieldDefinition): TSchema {
  switch (field.type) {
    case "string": return Type.String();
    case "int":
    case "long": return Type.Integer();
    case "float": return Type.Number();
    case "boolean": return Type.Boolean();
    case "array<string>": return Type.Array(Type.String());
    case "array<double>": return Type.Array(Type.Number());
    case "array<long>": return Type.Array(Type.Integer());
    case "array<boolean>": return Type.Array(Type.Boolean());
    default: return Type.Unknown();
  }
}

function fieldSchema(field: FieldDefinition): TSchema {
  const value = valueSchema(field);
  return field.required ? value : Type.Optional(Type.Union([value, Type.Null()]));
}

function objectOf(fields: readonly FieldDefinition[], extra: Record<string, TSchema> = {}) {
  const props: Record<string, TSchema> = { ...extra };
  for (const f of fields) props[f.name] = fieldSchema(f);
  return Type.Object(props, { additionalProperties: true });
}

function schemaFor(def: EventTypeDefinition): TSchema {
  const at = (loc: string) => def.fields.filter((f) => f.location === loc);
  const userFields = at("user");
  const nested: Record<string, TSchema> = {};
  for (const loc of ["properties.custom_properties", "properties.purchase_properties"] as const) {
    const f = def.fields.find((x) => x.location === loc);
    if (f) {
      const key = loc.split(".")[1] as string;
      const obj = Type.Object({}, { additionalProperties: true });
      nested[key] = f.required ? obj : Type.Optional(Type.Union([obj, Type.Null()]));
    }
  }
  const propFields = at("properties");
  const user = objectOf(userFields);
  const properties = objectOf(propFields, nested);
  const userRequired = userFields.some((f) => f.required);
  const propsRequired = propFields.some((f) => f.required) || Object.keys(nested).length > 0;
  return Type.Object(
    {
      event_type: Type.Literal(def.type),
      id: Type.String({ minLength: 1, maxLength: 256 }),
      time: Type.Integer({ minimum: 0 }),
      user: userRequired ? user : Type.Optional(user),
      properties: propsRequired ? properties : Type.Optional(properties),
    },
    { additionalProperties: true },
  );
}

const validators = new Map<string, TypeCheck<TSchema>>();
function validatorFor(def: EventTypeDefinition): TypeCheck<TSchema> {
  let v = validators.get(def.type);
  if (!v) {
    v = TypeCompiler.Compile(schemaFor(def));
    validators.set(def.type, v);
  }
  return v;
}
const byType = new Map(eventTypeDefinitions.map((d) => [d.type, d]));

export type EventValidation =
  | { ok: true; type: string; id: string }
  | { ok: false; error: string; id?: string };

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Validates one decoded event; the error names the offending field and what was expected. */
export function validateEvent(event: unknown): EventValidation {
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    return { ok: false, error: `event must be a JSON object, got ${describeValue(event)}` };
  }
  const e = event as Record<string, unknown>;
  const id = typeof e.id === "string" ? e.id : undefined;
  if (typeof e.event_type !== "string") {
    return { ok: false, id, error: e.event_type === undefined ? "missing required field event_type" : "event_type must be a string" };
  }
  const def = byType.get(e.event_type);
  if (!def) return { ok: false, id, error: `unknown event_type "${e.event_type.slice(0, 200)}"` };
  const check = validatorFor(def);
  if (check.Check(event)) return { ok: true, type: def.type, id: id as string };
  const first = check.Errors(event).First();
  if (!first) return { ok: false, id, error: "invalid event" };
  const path = first.path.replace(/^\//, "").replaceAll("/", ".") || "(event)";
  const missing = first.value === undefined;
  return {
    ok: false,
    id,
    error: missing ? `missing required field ${path}` : `${path}: ${first.message.toLowerCase()} (got ${describeValue(first.value)})`,
  };
}
