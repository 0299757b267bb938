import i18n, { language } from "./i18n";
/** The dashboard's client of the admin API: cookie session + CSRF token, errors in words. */
let csrfToken: string | undefined;

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  } catch {
    throw new ApiError(0, "Currents cannot be reached. Is the service running?");
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  if (!res.ok) {
    const err = (json as { error?: { message?: string; field?: string } } | undefined)?.error;
    throw new ApiError(res.status, err?.message ?? `The server answered ${res.status}.`, err?.field);
  }
  return json as T;
}

export async function login(token: string): Promise<string> {
  const r = await api<{ role: string; csrfToken: string }>("POST", "/api/v1/session", { token });
  csrfToken = r.csrfToken;
  return r.role;
}

export async function resumeSession(): Promise<string | undefined> {
  try {
    const r = await api<{ role: string | null; csrfToken?: string }>("GET", "/api/v1/session");
    csrfToken = r.csrfToken;
    return r.role ?? undefined;
  } catch {
    return undefined;
  }
}

export async function logout(): Promise<void> {
  await api("DELETE", "/api/v1/session").catch(() => undefined);
  csrfToken = undefined;
}

export interface Stats {
  delivered: number; delivered24h: number; pending: number; failedAttempts: number; deadLettered: number; expired: number;
  heldByRateLimit: number; valuesCut: number; deadLettersByReason: Array<{ reason: string; count: number }>;
  oldestPendingAgeMs: number | null; lastDeliveredAt: string | null; lastError: string | null; lastErrorAt: string | null; retryingUntil: string | null;
  job: { kind: string; state: string; total: number; sent: number; detail: string | null } | null;
}

/** What a person reads as the state: an active Current waiting to retry shows as "retrying". */
export const displayStatus = (c: Current): string => (c.status === "active" && c.stats.retryingUntil ? "retrying" : c.status);

/** A reason in a few words for a list (the details are on the Current's page): the first line, without a partner's JSON. */
export function shortReason(reason: string | null): string {
  if (!reason) return "";
  const first = reason.split("\n")[0]?.replace(/\s*[{[].*$/, "") ?? "";
  return first.length > 80 ? `${first.slice(0, 77)}…` : first;
}

/** "12 s ago" / "hace 12 s": for tiles and lists, in the reader's language, with the exact time in a title. */
export function relativeTime(iso: string | null, now = Date.now()): string {
  if (!iso) return "—";
  const ms = Date.parse(iso) - now;
  const abs = Math.abs(ms);
  if (abs < 1_000) return i18n.t("time.now");
  const [value, unit]: [number, Intl.RelativeTimeFormatUnit] = abs < 60_000 ? [ms / 1000, "second"] : abs < 3_600_000 ? [ms / 60_000, "minute"] : abs < 86_400_000 ? [ms / 3_600_000, "hour"] : [ms / 86_400_000, "day"];
  return new Intl.RelativeTimeFormat(language(), { numeric: "always", style: "short" }).format(Math.round(value), unit);
}

/** Whole numbers with the reader's thousands separators. */
export const count = (n: number): string => n.toLocaleString(language());
/** A date and time as the reader writes them. */
export const dateTime = (iso: string | number): string => new Date(iso).toLocaleString(language());
export interface Current {
  id: string; name: string; partner: string; workspace: string; contactEmail: string | null;
  settings: Record<string, unknown>; destination: string; ordering: "none" | "per_user"; events: string[]; transformations: Array<{ field: string; action: "remove" | "hash" }>;
  status: string; statusReason: string | null; createdAt: string; launchedAt: string | null; stats: Stats;
}
export interface EventTypeGroup {
  id: string; name: string; extension?: boolean;
  eventTypes: Array<{ type: string; name?: string; channel: string; description: string; deprecated: boolean; piiFields: string[] }>;
}

export function formatAge(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

const TITLES: Record<string, string> = { heap: "Heap Export", heap_api: "Heap (server-side API)", custom_http: "Custom Currents Export", amplitude: "Amplitude", mixpanel: "Mixpanel", segment: "Segment", storage: "Storage (Avro files)" };
export const partnerTitle = (p: string) => i18n.t(`partners.${p}`, { defaultValue: TITLES[p] ?? p });
/** A partner's description in the reader's language (the server's words in English). */
export const partnerDescription = (p: PartnerInfo) => i18n.t(`${p.id}.description`, { ns: "partners", defaultValue: p.description });
/** A setting's words (label, help, pattern help, a choice's label) in the reader's language. */
export const settingText = (s: PartnerSetting, what: "label" | "help" | "pattern", fallback: string) =>
  (s.partner ? i18n.t(`${s.partner}.${s.key}.${what}`, { ns: "partners", defaultValue: fallback }) : fallback);
export const choiceLabel = (s: PartnerSetting, value: string, fallback: string) =>
  (s.partner ? i18n.t(`${s.partner}.${s.key}.choices.${value}`, { ns: "partners", defaultValue: fallback }) : fallback);

export interface PartnerSetting {
  key: string; label: string; type: "url" | "string" | "boolean" | "number" | "choice" | "fieldMap"; required: boolean; secret: boolean; help: string;
  default?: string | number | boolean | Record<string, string>; choices?: Array<{ value: string; label: string }>; min?: number; max?: number;
  pattern?: string; patternHelp?: string; multiline?: boolean;
  /** The partner it belongs to (added here, for its words in the reader's language). */
  partner?: string;
}
export interface PartnerInfo { id: string; title: string; description: string; settings: PartnerSetting[]; testEventsNote?: string }

let partners: Promise<PartnerInfo[]> | undefined;
/** The partners and their settings (asked once). */
export function loadPartners(): Promise<PartnerInfo[]> {
  partners ??= api<{ partners: PartnerInfo[] }>("GET", "/api/v1/partners").then(
    (r) => r.partners.map((p) => ({ ...p, settings: p.settings.map((s) => ({ ...s, partner: p.id })) })),
    (e: unknown) => { partners = undefined; throw e; });
  return partners;
}
