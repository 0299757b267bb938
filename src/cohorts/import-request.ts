import { invalid } from "../errors.js";
import type { CohortMember } from "../store/port.js";

/** At most this many ids in one membership request, user ids, device ids and aliases together. */
export const MAX_IDS_PER_REQUEST = 1_000;

export interface CohortBody {
  readonly partner_api_key?: string;
  readonly client_secret: string;
  readonly cohort_id: string | number;
  readonly name: string;
  readonly created_at: string;
}

export interface CohortChangeBody {
  readonly user_ids?: readonly string[];
  readonly device_ids?: readonly string[];
  readonly aliases?: ReadonlyArray<{ readonly alias_name: string; readonly alias_label: string }>;
  readonly should_remove?: boolean;
}

export interface MembershipBody {
  readonly partner_api_key?: string;
  readonly client_secret: string;
  readonly cohort_id: string | number;
  readonly cohort_changes: readonly CohortChangeBody[];
}

/** The partner's cohort id as text ("42" and 42 are the same cohort). */
export function cohortIdOf(raw: string | number): string {
  const id = String(raw).trim();
  if (id === "" || id.length > 255) throw invalid("cohort_id", "must be a non-empty string or number of at most 255 characters");
  return id;
}

/** `created_at`: an ISO 8601 date-time (Heap sends one); ms since the epoch. */
export function createdAtOf(raw: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw) ? Date.parse(raw) : NaN;
  if (!Number.isFinite(ms)) throw invalid("created_at", `must be an ISO 8601 date-time (e.g. 2026-11-30T12:00:00Z); got ${JSON.stringify(raw.slice(0, 40))}`);
  return ms;
}

/**
 * The net change a request asks for, in its order (a member named twice takes its last
 * instruction): who should be in, who should be out. Refuses more than 1,000 ids in all.
 */
export function netChanges(changes: readonly CohortChangeBody[]): { add: CohortMember[]; remove: CohortMember[] } {
  const wanted = new Map<string, { member: CohortMember; in: boolean }>();
  let ids = 0;
  changes.forEach((c, i) => {
    const members: CohortMember[] = [
      ...(c.user_ids ?? []).map((key) => ({ kind: "user" as const, key })),
      ...(c.device_ids ?? []).map((key) => ({ kind: "device" as const, key })),
      ...(c.aliases ?? []).map((a) => ({ kind: "alias" as const, key: JSON.stringify([a.alias_label, a.alias_name]) })),
    ];
    for (const m of members) {
      if (m.key === "" || m.key === "[\"\",\"\"]") throw invalid(`cohort_changes.${i}`, "ids must not be empty");
    }
    ids += members.length;
    for (const m of members) wanted.set(`${m.kind}\u0000${m.key}`, { member: m, in: c.should_remove !== true });
  });
  if (ids > MAX_IDS_PER_REQUEST) {
    throw invalid("cohort_changes", `at most ${MAX_IDS_PER_REQUEST.toLocaleString("en-US")} ids a request (user_ids, device_ids and aliases together); this one has ${ids.toLocaleString("en-US")}`);
  }
  const add: CohortMember[] = [];
  const remove: CohortMember[] = [];
  for (const w of wanted.values()) (w.in ? add : remove).push(w.member);
  return { add, remove };
}

/** An alias member's label and name. */
export function aliasOf(key: string): { alias_label: string; alias_name: string } {
  const [alias_label, alias_name] = JSON.parse(key) as [string, string];
  return { alias_label, alias_name };
}
