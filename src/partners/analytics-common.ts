import type { ResolvedSettings, SettingDefinition } from "./define-partner.js";

/** An event as stored, parsed. */
export type Event = Record<string, unknown> & { user?: Record<string, unknown>; properties?: Record<string, unknown> };

export const parseEvent = (body: string) => JSON.parse(body) as Event;

/** The base URL: `baseUrl` when given (a proxy or a test double), else the region's. */
export function baseOf(settings: Readonly<Record<string, unknown>>, regions: Readonly<Record<string, string>>): string {
  const explicit = typeof settings.baseUrl === "string" && settings.baseUrl !== "" ? settings.baseUrl : undefined;
  return (explicit ?? regions[String(settings.region ?? Object.keys(regions)[0])] ?? (Object.values(regions)[0] as string)).replace(/\/+$/, "");
}

/** A string field of the event's user object. */
export const userField = (e: Event, key: string): string | undefined => {
  const v = e.user?.[key];
  return typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined;
};

/** The settings every analytics partner shares: region, event names, base URL. */
export function commonSettings(regions: ReadonlyArray<{ value: string; label: string }>): SettingDefinition[] {
  return [
    { key: "region", label: "Region", type: "choice", required: false, secret: false, default: regions[0]?.value, choices: regions, help: "Where your project's data lives." },
    { key: "eventNames", label: "Event names", type: "choice", required: false, secret: false, default: "friendly", choices: [{ value: "friendly", label: "Friendly names (Email Open)" }, { value: "type", label: "The event type (users.messages.email.Open)" }], help: "How events are named in the partner." },
    { key: "baseUrl", label: "Base URL", type: "url", required: false, secret: false, help: "Optional: replaces the region's URL (a proxy or a test double)." },
  ];
}

export const nameMode = (s: ResolvedSettings): "type" | "friendly" => (s.eventNames === "type" ? "type" : "friendly");

/** Test events go to this user, never to a real one. */
export const TEST_USER = "currents-test";

/** Sends test events to the test user. */
export function toTestUser(event: Record<string, unknown>): Record<string, unknown> {
  const user = (event.user ?? {}) as Record<string, unknown>;
  return { ...event, user: { ...user, user_id: TEST_USER, external_user_id: TEST_USER } };
}
