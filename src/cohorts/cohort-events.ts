import { v5 as uuidv5 } from "uuid";
import type { CohortMember, CohortRecord } from "../store/port.js";
import { aliasOf } from "./import-request.js";

/** The namespace of cohort event ids (a fixed random UUID). */
const COHORT_EVENT_NAMESPACE = "2f9e7c1a-8b4d-4e6f-a1c3-7d5b9e0f2a64";
export const ENTER = "users.cohorts.Enter";
export const EXIT = "users.cohorts.Exit";

/**
 * `users.cohorts.Enter` / `Exit` for a member (Currents' extension types). The id is derived
 * from the cohort, its version before the change, the member and the direction: a request
 * retried after a failure makes the same events (deduplicated), a later change a new one.
 */
export function cohortEvent(cohort: CohortRecord, member: CohortMember, entered: boolean, now: number): Record<string, unknown> {
  const user: Record<string, unknown> = {};
  if (member.kind === "user") user.external_user_id = member.key;
  else if (member.kind === "device") user.device_id = member.key;
  else Object.assign(user, aliasOf(member.key));
  return {
    event_type: entered ? ENTER : EXIT,
    id: uuidv5(`${cohort.id}:${cohort.version}:${member.kind}:${member.key}:${entered ? "in" : "out"}`, COHORT_EVENT_NAMESPACE),
    time: Math.floor(now / 1000),
    user,
    properties: { cohort_id: cohort.cohortId, cohort_name: cohort.name, partner: cohort.partner },
  };
}
