import { randomBytes } from "node:crypto";
import { isKnownEventType } from "../catalog/catalog.js";
import { invalid } from "../errors.js";
import type { PartnerDefinition, SettingDefinition } from "../partners/define-partner.js";
import { type EndpointPolicy, checkEndpointUrl } from "../security/ssrf-guard.js";
import type { BatchingOptions, Transformation } from "./model.js";

/** The body of `POST /api/v1/currents` and `PATCH /api/v1/currents/{id}` (after schema checks). */
export interface CurrentInput {
  name?: string;
  partner?: string;
  contactEmail?: string | null;
  workspace?: string;
  settings?: Record<string, unknown>;
  events?: string[];
  transformations?: Transformation[];
  batching?: BatchingOptions;
  ordering?: "none" | "per_user";
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function checkName(name: string): string {
  const n = name.trim();
  if (n.length === 0) throw invalid("name", "must not be empty");
  if (n.length > 200) throw invalid("name", "must be at most 200 characters");
  return n;
}

export function checkContactEmail(email: string | null | undefined): string | null {
  if (email === undefined || email === null || email === "") return null;
  if (!EMAIL.test(email) || email.length > 320) throw invalid("contactEmail", `"${email.slice(0, 100)}" is not an email address`);
  return email;
}

export function checkEvents(events: readonly string[]): string[] {
  const unknown = events.filter((t) => !isKnownEventType(t));
  if (unknown.length > 0) throw invalid("events", `unknown event type(s): ${unknown.slice(0, 5).join(", ")}`);
  return [...new Set(events)].sort();
}

export function checkTransformations(list: readonly Transformation[]): Transformation[] {
  list.forEach((t, i) => {
    if (typeof t.field !== "string" || t.field.trim() === "") throw invalid(`transformations[${i}].field`, "must be a field name");
    if (["id", "event_type", "time"].includes(t.field)) throw invalid(`transformations[${i}].field`, `${t.field} cannot be transformed`);
    if (t.action !== "remove" && t.action !== "hash") throw invalid(`transformations[${i}].action`, 'must be "remove" or "hash"');
  });
  return list.map((t) => ({ field: t.field, action: t.action }));
}

export function checkBatching(b: BatchingOptions, partner: PartnerDefinition): BatchingOptions {
  const range = (key: Exclude<keyof BatchingOptions, "ordering" | "fill">, min: number, max: number) => {
    const v = b[key];
    if (v === undefined) return;
    if (!Number.isInteger(v) || v < min || v > max) throw invalid(`batching.${key}`, `must be an integer between ${min} and ${max}`);
  };
  range("maxBatchEvents", 1, partner.limits.maxBatchEvents);
  range("maxBatchBytes", 1_000, partner.limits.maxBatchBytes);
  range("lingerMs", 0, 600_000);
  range("maxInFlight", 1, 64);
  range("requestTimeoutMs", 100, 120_000);
  if (b.fill !== undefined && typeof b.fill !== "boolean") throw invalid("batching.fill", "must be true or false");
  if (b.ordering !== undefined && b.ordering !== "none" && b.ordering !== "per_user") throw invalid("ordering", 'must be "none" or "per_user"');
  return { ...b };
}

/**
 * Checks partner settings against the partner's definition and splits them into plain
 * and secret ones. `previousSecrets` are kept when a secret is omitted or sent back masked.
 */
export function checkSettings(
  partner: Pick<PartnerDefinition, "title" | "settings" | "validate">,
  input: Record<string, unknown>,
  policy: EndpointPolicy,
  previous?: { plain: Readonly<Record<string, unknown>>; secrets: Record<string, string>; hints: Readonly<Record<string, string>> },
  now: number = Date.now(),
): { plain: Record<string, unknown>; secrets: Record<string, string>; generated: Record<string, string> } {
  const known = new Set(partner.settings.map((s) => s.key));
  // A rotation's previous secret and its end are Currents' own: sent back as shown, they are ignored.
  const managed = new Set(partner.settings.filter((s) => s.rotates).flatMap((s) => [`${s.key}.previous`, `${s.key}.previousUntil`]));
  for (const key of Object.keys(input)) {
    if (!known.has(key) && !managed.has(key)) throw invalid(`settings.${key}`, `is not a setting of ${partner.title}`);
  }
  const plain: Record<string, unknown> = {};
  const secrets: Record<string, string> = {};
  for (const s of partner.settings) {
    const has = Object.hasOwn(input, s.key);
    let value = has ? input[s.key] : undefined;
    if (s.secret) {
      if (value === undefined || (typeof value === "string" && previous && value === previous.hints[s.key])) {
        const old = previous?.secrets[s.key];
        if (old !== undefined && !(has && value === undefined)) secrets[s.key] = old;
        else if (s.required) throw invalid(`settings.${s.key}`, "is required");
        continue;
      }
      if (value === null || value === "") {
        if (s.required) throw invalid(`settings.${s.key}`, "is required (it cannot be cleared)");
        continue; // cleared
      }
      if (typeof value !== "string") throw invalid(`settings.${s.key}`, "must be a string");
      if (value.length > 4096) throw invalid(`settings.${s.key}`, "must be at most 4096 characters");
      // Secrets travel in HTTP headers: visible ASCII only (a token that could never be sent is refused now, not at every attempt).
      if (!/^[\x21-\x7E]+$/.test(value)) throw invalid(`settings.${s.key}`, "must be visible ASCII characters only (no spaces, control or non-ASCII characters)");
      if (s.minLength !== undefined && value.length < s.minLength) throw invalid(`settings.${s.key}`, `must be at least ${s.minLength} characters (a shorter one is too easy to guess)`);
      if (s.format === "whsec" && !isSigningSecret(value)) {
        throw invalid(`settings.${s.key}`, "must be whsec_ followed by the base64 of at least 24 random bytes (omit it, with sign: true, and Currents generates one)");
      }
      secrets[s.key] = value;
      continue;
    }
    if (!has && previous) value = previous.plain[s.key];
    if (value === undefined || value === null || value === "") {
      if (s.required) throw invalid(`settings.${s.key}`, "is required");
      continue;
    }
    checkSettingValue(s, value);
    if (s.type === "url") {
      const refusal = checkEndpointUrl(value as string, policy);
      if (refusal) throw invalid(`settings.${s.key}`, refusal);
    }
    plain[s.key] = value;
  }
  // A kept secret never follows the endpoint to another host: changing the host needs the secret again.
  if (previous) {
    for (const s of partner.settings.filter((x) => x.type === "url")) {
      const before = hostOf(previous.plain[s.key]);
      const after = hostOf(plain[s.key]);
      if (before === after) continue;
      for (const k of Object.keys(secrets)) {
        const given = Object.hasOwn(input, k) && input[k] !== previous.hints[k];
        if (!given && secrets[k] === previous.secrets[k]) {
          throw invalid(`settings.${k}`, `the ${s.label.toLowerCase()} moves to another host (${after ?? "none"}): send ${k} again, it is never sent to a new host without you`);
        }
      }
    }
  }
  // A secret generated on request (e.g. sign: true without a signing secret), shown once.
  const generated: Record<string, string> = {};
  for (const b of partner.settings) {
    if (b.type !== "boolean" || !b.generates || plain[b.key] !== true || secrets[b.generates] !== undefined) continue;
    secrets[b.generates] = generated[b.generates] = generateSigningSecret();
  }
  // Rotation: a changed secret keeps the previous one in use beside it for the overlap.
  for (const s of partner.settings.filter((x) => x.secret && x.rotates)) {
    const prevKey = `${s.key}.previous`;
    const untilKey = `${s.key}.previousUntil`;
    const old = previous?.secrets[s.key];
    const current = secrets[s.key];
    if (current !== undefined && old !== undefined && old !== current) {
      secrets[prevKey] = old;
      plain[untilKey] = new Date(now + SIGNING_OVERLAP_MS).toISOString();
    } else if (current !== undefined && previous?.secrets[prevKey] !== undefined && Date.parse(String(previous.plain[untilKey])) > now) {
      secrets[prevKey] = previous.secrets[prevKey];
      plain[untilKey] = previous.plain[untilKey];
    }
  }
  const whole = partner.validate?.({ ...plain, ...secrets });
  if (whole) throw invalid(`settings.${whole.field}`, whole.message);
  return { plain, secrets, generated };
}

/** A plain setting's value against its definition's type, choices, range and pattern. */
function checkSettingValue(s: SettingDefinition, value: unknown): void {
  const field = `settings.${s.key}`;
  switch (s.type) {
    case "boolean":
      if (typeof value !== "boolean") throw invalid(field, "must be true or false");
      return;
    case "number":
      if (typeof value !== "number" || !Number.isInteger(value)) throw invalid(field, "must be a whole number");
      if ((s.min !== undefined && value < s.min) || (s.max !== undefined && value > s.max)) throw invalid(field, `must be between ${s.min ?? "-∞"} and ${s.max ?? "∞"}`);
      return;
    case "choice":
      if (!s.choices?.some((c) => c.value === value)) throw invalid(field, `must be one of ${(s.choices ?? []).map((c) => c.value).join(", ")}`);
      return;
    case "fieldMap": {
      if (value === null || typeof value !== "object" || Array.isArray(value)) throw invalid(field, 'must be an object of event field path to name, e.g. {"properties.email_address":"email"}');
      for (const [path, name] of Object.entries(value)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(path)) throw invalid(`${field}.${path}`, "is not a field path (letters, digits and _ joined by dots, e.g. user.timezone)");
        if (typeof name !== "string" || name === "" || name.length > 200) throw invalid(`${field}.${path}`, "must name the property (1 to 200 characters)");
        if (name.toLowerCase() === "id") throw invalid(`${field}.${path}`, "cannot be named id (any casing): the partner refuses it");
      }
      return;
    }
    default: {
      if (typeof value !== "string") throw invalid(field, "must be a string");
      const max = s.multiline ? 16_384 : 4096;
      if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
      if (s.pattern !== undefined && !new RegExp(s.pattern).test(value)) throw invalid(field, s.patternHelp ?? `must match ${s.pattern}`);
    }
  }
}

/** How long a rotated signing secret keeps signing beside the new one. */
export const SIGNING_OVERLAP_MS = 24 * 3_600_000;

/** `whsec_` + base64 of at least 24 bytes, as Standard Webhooks libraries read it. */
export function isSigningSecret(value: string): boolean {
  const m = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(value);
  return m !== null && (m[1] as string).length % 4 === 0 && Buffer.from(m[1] as string, "base64").length >= 24;
}

export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

function hostOf(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
}
