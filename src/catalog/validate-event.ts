import { Type, type TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { eventTypeDefinitions } from "./catalog.js";
import type { EventTypeDefinition, FieldDefinition } from "./types.js";

/**
 * Event validation with one compiled validator per event type (TypeBox's TypeCompiler).
 *
 * Rules (SPEC sections 3 and 4):
 * - the envelope: `event_type` a known type, `id` a non-empty string, `time` an integer
 *   number of UNIX seconds (10^11 or more is refused as "looks like milliseconds"), `user`
 *   and `properties` objects when present;
 * - every catalog field that is present has the catalog's type (optional fields may also be
 *   `null`, as exports of this format carry them); unknown extra fields pass through;
 * - a catalog-required field that is missing (absent or null) is a **warning** by default:
 *   the event is accepted and the warning listed, because real producers' schemas drift. In
 *   strict mode (a workspace or ingest key setting) it is an error instead.
 * Every problem of an event is named, not only the first.
 */

/** `time` at or above this is taken for milliseconds (year 5138 in seconds). */
export const MILLISECONDS_THRESHOLD = 100_000_000_000;

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

/** Types only: presence of required fields is checked apart (it may be a warning). */
const optionalField = (field: FieldDefinition): TSchema => Type.Optional(Type.Union([valueSchema(field), Type.Null()]));
const looseObject = (props: Record<string, TSchema>) => Type.Object(props, { additionalProperties: true });
const NESTED = ["properties.custom_properties", "properties.purchase_properties"] as const;

function schemaFor(def: EventTypeDefinition): TSchema {
  const at = (loc: string) => def.fields.filter((f) => f.location === loc);
  const props: Record<string, TSchema> = {};
  for (const f of at("properties")) props[f.name] = optionalField(f);
  for (const loc of NESTED) {
    if (def.fields.some((x) => x.location === loc)) props[loc.split(".")[1] as string] = Type.Optional(Type.Union([looseObject({}), Type.Null()]));
  }
  const user: Record<string, TSchema> = {};
  for (const f of at("user")) user[f.name] = optionalField(f);
  return looseObject({
    event_type: Type.Literal(def.type),
    id: Type.String({ minLength: 1, maxLength: 256 }),
    time: Type.Integer({ minimum: 0, maximum: MILLISECONDS_THRESHOLD - 1 }),
    user: Type.Optional(looseObject(user)),
    properties: Type.Optional(looseObject(props)),
  });
}

/** Where each required field sits: `["user", "user_id"]`, `["properties", "campaign_id"]`... */
function requiredPaths(def: EventTypeDefinition): string[][] {
  const paths: string[][] = [];
  for (const f of def.fields) {
    if (!f.required || f.location === "top") continue;
    if (f.location === "user" || f.location === "properties") paths.push([f.location, f.name]);
    else if ((NESTED as readonly string[]).includes(f.location)) paths.push(f.location.split("."));
  }
  return paths;
}

interface Compiled { readonly check: TypeCheck<TSchema>; readonly required: string[][] }
const compiled = new Map<string, Compiled>();
const byType = new Map(eventTypeDefinitions.map((d) => [d.type, d]));

function compiledFor(def: EventTypeDefinition): Compiled {
  let c = compiled.get(def.type);
  if (!c) compiled.set(def.type, (c = { check: TypeCompiler.Compile(schemaFor(def)), required: requiredPaths(def) }));
  return c;
}

export interface ValidateOptions {
  /** Missing catalog-required fields are errors instead of warnings. */
  readonly strict?: boolean;
}

export type EventValidation =
  | { ok: true; type: string; id: string; warnings: string[] }
  | { ok: false; error: string; id?: string };

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function missingRequired(event: Record<string, unknown>, paths: string[][]): string[] {
  const missing: string[] = [];
  for (const path of paths) {
    let v: unknown = event;
    for (const k of path) v = v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
    if (v === undefined || v === null) missing.push(path.join("."));
  }
  return missing;
}

function typeProblems(check: TypeCheck<TSchema>, event: unknown): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const e of check.Errors(event)) {
    const path = e.path.replace(/^\//, "").replaceAll("/", ".") || "(event)";
    // A union reports each branch; one line per field is enough.
    if (seen.has(path)) continue;
    seen.add(path);
    if (path === "time" && typeof e.value === "number" && Number.isInteger(e.value) && e.value >= MILLISECONDS_THRESHOLD) {
      problems.push(`time: ${e.value} looks like milliseconds; send UNIX seconds`);
    } else if (e.value === undefined) {
      problems.push(`missing required field ${path}`);
    } else {
      problems.push(`${path}: ${e.message.toLowerCase()} (got ${describeValue(e.value)})`);
    }
    if (problems.length >= 20) break;
  }
  return problems;
}

/** Validates one decoded event; errors and warnings name the fields and what was expected. */
export function validateEvent(event: unknown, options: ValidateOptions = {}): EventValidation {
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
  const { check, required } = compiledFor(def);
  const problems = check.Check(event) ? [] : typeProblems(check, event);
  const missing = missingRequired(e, required).map((p) => `missing catalog-required field ${p}`);
  if (options.strict) problems.push(...missing);
  if (problems.length > 0) return { ok: false, id, error: problems.join("; ") };
  return { ok: true, type: def.type, id: id as string, warnings: options.strict ? [] : missing };
}
