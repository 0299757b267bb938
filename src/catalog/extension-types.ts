// Currents' own event types, beside the reference catalog (catalog.generated.ts): an extension
// group, marked as such in the API and the dashboard. Not in the original's catalog.
import type { EventTypeDefinition, FieldDefinition } from "./types.js";

export const EXTENSION_GROUP = "currents_extension";

/** A cohort member is an external user id, a device id or an alias; the cohort is named by its partner. */
const cohortFields: readonly FieldDefinition[] = [
  { name: "id", type: "string", required: true, location: "top" },
  { name: "time", type: "int", required: true, location: "top" },
  { name: "external_user_id", type: "string", required: false, location: "user", pii: true },
  { name: "device_id", type: "string", required: false, location: "user" },
  { name: "alias_name", type: "string", required: false, location: "user", pii: true },
  { name: "alias_label", type: "string", required: false, location: "user" },
  { name: "cohort_id", type: "string", required: true, location: "properties" },
  { name: "cohort_name", type: "string", required: true, location: "properties" },
  { name: "partner", type: "string", required: true, location: "properties" },
];

const cohortType = (type: string, description: string): EventTypeDefinition =>
  ({ type, group: EXTENSION_GROUP, channel: "cohort", status: "current", description, fields: cohortFields });

export const extensionTypeDefinitions: readonly EventTypeDefinition[] = [
  cohortType("users.cohorts.Enter", "A user joined a cohort imported from a partner (Heap's cohort sync): written by Currents when the partner adds the member."),
  cohortType("users.cohorts.Exit", "A user left a cohort imported from a partner (Heap's cohort sync): written by Currents when the partner removes the member."),
];
