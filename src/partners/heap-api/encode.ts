import { eventName } from "../event-name.js";

/**
 * The event encoding of Heap's server-side API (`heap_api`, SPEC section 11; formats in
 * PARTNER-FORMATS.md section 6): pure functions from a Currents event to a bulk-track event and
 * to user properties. The partner definition (index.ts) puts them together.
 */

/** Heap's limits on what it takes. */
export const HEAP_MAX_IDENTITY = 255;
export const HEAP_MAX_VALUE = 1024;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Event = { [key: string]: Json };

/** Which field identifies the user in Heap: `external_user_id`, `user_id`, or a path such as `properties.email_address`. */
export function heapIdentity(event: Event, identity: string): string | undefined {
  const v = identityValue(event, identity);
  return v !== undefined && v.length <= HEAP_MAX_IDENTITY ? v : undefined;
}

/** Why an event has no identity Heap takes (a dead letter's reason), or undefined when it has one. */
export function identityProblem(event: Event, identity: string): string | undefined {
  const v = identityValue(event, identity);
  if (v === undefined) return `no identity (${identity})`;
  return v.length > HEAP_MAX_IDENTITY ? `identity longer than ${HEAP_MAX_IDENTITY} characters (${identity})` : undefined;
}

function identityValue(event: Event, identity: string): string | undefined {
  const path = identity === "external_user_id" || identity === "user_id" ? ["user", identity] : identity.split(".");
  let v: Json | undefined = event;
  for (const k of path) v = v !== null && typeof v === "object" && !Array.isArray(v) ? v[k] : undefined;
  if (typeof v === "number") v = String(v);
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** The event's name in Heap (shared with the other analytics partners, see event-name.ts). */
export const heapEventName = eventName;

/** What flattening cut: keys and values longer than Heap takes. */
export interface Cuts {
  keys: number;
  values: number;
}

/**
 * Heap's property rules: nested objects flattened with "." keys, arrays joined with "||",
 * booleans as "true"/"false", nulls dropped, numbers kept, keys and values cut to 1,024
 * characters (counted in `cuts`).
 */
export function flattenProperties(value: Json, cuts: Cuts, prefix = "", out: Record<string, string | number> = {}): Record<string, string | number> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    let key = prefix ? `${prefix}.${k}` : k;
    if (v === null || v === undefined) continue;
    if (typeof v === "object" && !Array.isArray(v)) {
      flattenProperties(v, cuts, key, out);
      continue;
    }
    if (key.length > HEAP_MAX_VALUE) {
      key = key.slice(0, HEAP_MAX_VALUE);
      cuts.keys++;
    }
    let flat: string | number = Array.isArray(v) ? v.filter((x) => x !== null).map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join("||")
      : typeof v === "boolean" ? String(v) : v;
    if (typeof flat === "string" && flat.length > HEAP_MAX_VALUE - 1) {
      flat = flat.slice(0, HEAP_MAX_VALUE - 1);
      cuts.values++;
    }
    out[key] = flat;
  }
  return out;
}

export interface HeapTrackEvent {
  identity: string;
  event: string;
  timestamp: string;
  idempotency_key: string;
  properties: Record<string, string | number>;
}

export interface HeapEncodeSettings {
  readonly identity: string;
  readonly eventNames: "type" | "friendly";
  readonly prefix?: string;
}

/**
 * One event for Heap's bulk track (`POST /api/track {"app_id","events":[...]}`), or why it
 * cannot be sent (no identity: a dead letter, redrivable once the setting is fixed).
 */
export function heapTrackEvent(event: Event, s: HeapEncodeSettings, cuts: Cuts): { ok: true; event: HeapTrackEvent } | { ok: false; reason: string } {
  const identity = heapIdentity(event, s.identity);
  if (identity === undefined) return { ok: false, reason: identityProblem(event, s.identity) as string };
  const properties = flattenProperties(event.properties ?? null, cuts);
  properties.currents_event_type = String(event.event_type);
  properties.currents_event_id = String(event.id);
  return {
    ok: true,
    event: {
      identity,
      event: heapEventName(event, s.eventNames, s.prefix),
      timestamp: new Date(Number(event.time) * 1000).toISOString(),
      idempotency_key: String(event.id),
      properties,
    },
  };
}

/** Which user fields go to Heap as user properties: source path -> Heap name. The default: email and timezone. */
export const DEFAULT_USER_PROPERTIES: Readonly<Record<string, string>> = { "properties.email_address": "email", "user.timezone": "timezone" };

/** An identity's user properties from an event (keys that are any casing of "id" are never sent), or undefined when none. */
export function heapUserProperties(event: Event, fields: Readonly<Record<string, string>> = DEFAULT_USER_PROPERTIES): Record<string, string | number> | undefined {
  const out: Record<string, string | number> = {};
  for (const [path, name] of Object.entries(fields)) {
    if (name.toLowerCase() === "id") continue;
    let v: Json | undefined = event;
    for (const k of path.split(".")) v = v !== null && typeof v === "object" && !Array.isArray(v) ? v[k] : undefined;
    if (typeof v === "string" || typeof v === "number") out[name] = typeof v === "string" ? v.slice(0, HEAP_MAX_VALUE - 1) : v;
    else if (typeof v === "boolean") out[name] = String(v);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Remembers what was last sent as each identity's user properties (bounded; oldest forgotten
 * first), so that `add_user_properties` goes out only when one of them changed. After a
 * restart, or once forgotten, sending again is harmless.
 */
export class UserPropertiesSeen {
  readonly #seen = new Map<string, Record<string, string | number>>();
  /** Properties a batch in flight carries: other batches leave them out for a while (concurrent batches of one user). */
  readonly #pending = new Map<string, { props: Record<string, string | number>; owner: string; until: number }>();

  constructor(private readonly max = 100_000, private readonly pendingMs = 30_000) {}

  /** True when one of these properties differs from what was last sent for the identity (an absent one is no change). */
  differs(identity: string, properties: Record<string, string | number>, seen = this.#seen.get(identity)): boolean {
    return !seen || Object.entries(properties).some(([k, v]) => seen[k] !== v);
  }

  /**
   * Whether the batch `owner` (its idempotency key: stable across its retries) should carry
   * these properties: one changed, and no other batch in flight carries the same. Claims them.
   */
  claim(identity: string, properties: Record<string, string | number>, owner: string, now: number): boolean {
    const p = this.#pending.get(identity);
    const carried = p && p.owner !== owner && p.until > now ? p.props : {};
    if (!this.differs(identity, properties, { ...this.#seen.get(identity), ...carried })) return false;
    this.#pending.set(identity, { props: properties, owner, until: now + this.pendingMs });
    if (this.#pending.size > this.max) this.#pending.delete(this.#pending.keys().next().value as string);
    return true;
  }

  /** Remembers what was sent (once Heap took it). */
  remember(identity: string, properties: Record<string, string | number>): void {
    if (this.#pending.get(identity)?.props === properties) this.#pending.delete(identity);
    const merged = { ...this.#seen.get(identity), ...properties };
    this.#seen.delete(identity);
    this.#seen.set(identity, merged);
    if (this.#seen.size > this.max) this.#seen.delete(this.#seen.keys().next().value as string);
  }

  /** True (and remembered) when these properties differ from what was last sent for the identity. */
  changed(identity: string, properties: Record<string, string | number>): boolean {
    if (!this.differs(identity, properties)) return false;
    this.remember(identity, properties);
    return true;
  }
}
