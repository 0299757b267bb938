import avro from "avsc";
import { eventTypeDefinition } from "../../catalog/catalog.js";
import type { FieldDefinition } from "../../catalog/types.js";

/** Bumped whenever the generated schemas change (the `<schema-id>` directory of the layout). */
export const SCHEMA_ID = 1;

const AVRO: Record<string, string | { type: "array"; items: string }> = {
  string: "string", int: "long", long: "long", float: "double", boolean: "boolean",
  "array<string>": { type: "array", items: "string" }, "array<boolean>": { type: "array", items: "boolean" },
  "array<long>": { type: "array", items: "long" }, "array<double>": { type: "array", items: "double" },
};

/** Where a field's value is in the stored JSON, and its name in the flat record. */
interface Column { readonly name: string; readonly location: string; readonly json: boolean; readonly type: avro.Type }

const cache = new Map<string, { type: avro.Type; columns: Column[] }>();

/**
 * The Avro record of an event type, from the catalog, flat like the original's: user fields
 * and properties are top-level fields, `time` a long, every field but `id` and `time`
 * optional (`["null", T]`, default null: events accepted with warnings may lack one), nested
 * objects (`custom_properties`, `purchase_properties`) as JSON strings.
 */
export function avroFor(eventType: string): { type: avro.Type; columns: Column[] } {
  const hit = cache.get(eventType);
  if (hit) return hit;
  const def = eventTypeDefinition(eventType);
  if (!def) throw new Error(`unknown event type ${eventType}`);
  const parts = eventType.split(".");
  const name = (parts.pop() as string).replace(/[^A-Za-z0-9_]/g, "_");
  const seen = new Set<string>();
  const fields: Array<{ name: string; type: unknown; default?: null }> = [];
  const columns: Array<Omit<Column, "type"> & { avro: unknown }> = [];
  const add = (f: FieldDefinition, nameOverride?: string, json = false) => {
    const column = (nameOverride ?? f.name).replace(/[^A-Za-z0-9_]/g, "_");
    if (seen.has(column)) return;
    seen.add(column);
    const base = json ? "string" : f.name === "time" ? "long" : (AVRO[f.type] ?? "string");
    const required = column === "id" || column === "time";
    const type = required ? base : ["null", base];
    fields.push(required ? { name: column, type } : { name: column, type, default: null });
    columns.push({ name: column, location: f.location, json, avro: type });
  };
  add({ name: "id", type: "string", required: true, location: "top" } as FieldDefinition);
  add({ name: "time", type: "long", required: true, location: "top" } as FieldDefinition);
  for (const f of def.fields) {
    if (f.location === "properties.custom_properties") add({ ...f, name: "custom_properties", location: "properties" } as FieldDefinition, undefined, true);
    else if (f.location === "properties.purchase_properties") add({ ...f, name: "purchase_properties", location: "properties" } as FieldDefinition, undefined, true);
    else add(f);
  }
  const type = avro.Type.forSchema({ type: "record", name, namespace: `currents.${parts.join(".")}`, doc: def.description, fields } as avro.Schema);
  const out = { type, columns: columns.map((c) => ({ name: c.name, location: c.location, json: c.json, type: avro.Type.forSchema(c.avro as avro.Schema) })) };
  cache.set(eventType, out);
  return out;
}

/** One event as a record of its type: values that do not fit their field are null (never a failed file). */
export function toRecord(event: Record<string, unknown>, columns: readonly Column[]): Record<string, unknown> {
  const user = (event.user ?? {}) as Record<string, unknown>;
  const props = (event.properties ?? {}) as Record<string, unknown>;
  const record: Record<string, unknown> = {};
  for (const c of columns) {
    const from = c.location === "user" ? user : c.location === "top" ? event : props;
    let v: unknown = from[c.name];
    if (c.json && v !== undefined && v !== null) v = JSON.stringify(v);
    if (c.name === "time") v = Math.trunc(Number(v) || 0);
    else if (c.name === "id") v = String(v);
    else if (v === undefined || !c.type.isValid(v === null ? null : v)) v = null;
    record[c.name] = v;
  }
  return record;
}

/** An Avro object container file (deflate codec) of records of one type. */
export function containerFile(type: avro.Type, records: readonly Record<string, unknown>[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const encoder = new avro.streams.BlockEncoder(type, { codec: "deflate" });
    const chunks: Buffer[] = [];
    encoder.on("data", (c: Buffer) => chunks.push(c));
    encoder.on("end", () => resolve(Buffer.concat(chunks)));
    encoder.on("error", reject);
    for (const r of records) encoder.write(r);
    encoder.end();
  });
}
