import { createHash } from "node:crypto";
import type { Transformation } from "../currents/model.js";

/** The value a *Remove* transformation writes. */
export const REDACTED = "[REDACTED]";

function transformValue(value: unknown, action: Transformation["action"]): unknown {
  if (value === null || value === undefined) return value;
  if (action === "remove") return REDACTED;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * Applies a Current's field transformations to one event (JSON text in, JSON text out).
 * A field is looked up where the catalog puts fields: at the top, under `user`, under
 * `properties`. Events without the field pass unchanged (and are not re-serialised).
 */
export function applyTransformations(body: string, transformations: readonly Transformation[]): string {
  if (transformations.length === 0) return body;
  const event = JSON.parse(body) as Record<string, unknown>;
  let changed = false;
  for (const t of transformations) {
    for (const holder of [event, event.user, event.properties]) {
      if (holder && typeof holder === "object" && Object.hasOwn(holder, t.field)) {
        const h = holder as Record<string, unknown>;
        if (h[t.field] !== null && h[t.field] !== undefined && !(holder === event && (t.field === "id" || t.field === "event_type" || t.field === "time"))) {
          h[t.field] = transformValue(h[t.field], t.action);
          changed = true;
        }
      }
    }
  }
  return changed ? JSON.stringify(event) : body;
}
