import { createHash } from "node:crypto";
import { v5 as uuidv5 } from "uuid";
import type { Mapped, ProviderEvent, SourceKind } from "./define-source.js";

/** The namespace of Currents' source event ids (a fixed random UUID): id = uuidv5(ns, "<kind>:<provider key>"). */
export const SOURCE_ID_NAMESPACE = "6c7f2a44-3f5e-4b8a-9d0c-5e1b2f3a4d6e";

/** Ids carried by custom args, metadata, tags or query parameters, kept under their catalog names. */
const CARRIED = ["campaign_id", "campaign_name", "dispatch_id", "canvas_id", "canvas_name", "canvas_step_id", "message_variation_id", "send_id", "subscription_group_id"];

/**
 * A catalog event from a mapped provider event (SPEC section 12): `id` a UUIDv5 of the
 * provider's own key (so provider retries dedupe at ingest), `time` in seconds, `user.user_id`
 * from the configured field, else a synthetic id from the address (`synthetic_user_id: true`),
 * `esp` and the provider ids kept.
 */
export function buildSourceEvent(kind: SourceKind, event: ProviderEvent, m: Mapped, userIdField: string): Record<string, unknown> {
  const userId = m.ids[userIdField];
  const address = m.email?.toLowerCase() ?? m.phone;
  const user: Record<string, unknown> = {};
  const properties: Record<string, unknown> = {};
  if (userId) {
    user.user_id = userId;
    user.external_user_id = userId;
  } else {
    user.user_id = createHash("sha256").update(address ?? `${kind.id}:${event.key}`).digest("hex").slice(0, 24);
    properties.synthetic_user_id = true;
  }
  if (m.email) properties.email_address = m.email;
  for (const k of CARRIED) if (m.ids[k] !== undefined) properties[k] = m.ids[k];
  Object.assign(properties, m.properties);
  properties.esp = kind.esp;
  return {
    event_type: m.type,
    id: uuidv5(`${kind.id}:${event.key}${m.keySuffix ? `:${m.keySuffix}` : ""}`, SOURCE_ID_NAMESPACE),
    time: Math.floor(m.time),
    user,
    properties,
  };
}
