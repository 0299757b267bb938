import { friendlyName } from "./friendly-name.js";
import { eventTypeDefinitions as reference } from "./catalog.generated.js";
import { EXTENSION_GROUP, extensionTypeDefinitions } from "./extension-types.js";
import { sampleEvent } from "./sample-event.js";
import type { EventGroupId, EventTypeDefinition } from "./types.js";

/** `extension`: Currents' own types, not the original's (cohort changes). */
export const eventGroups: ReadonlyArray<{ id: EventGroupId; name: string; extension?: boolean }> = [
  { id: "message_engagement", name: "Message engagement events" },
  { id: "customer_behavior", name: "Customer behavior events" },
  { id: "user", name: "User events" },
  { id: EXTENSION_GROUP, name: "Currents extension events", extension: true },
];

/** The reference catalog and Currents' own extension types. */
export const eventTypeDefinitions: readonly EventTypeDefinition[] = [...reference, ...extensionTypeDefinitions];

const byType = new Map<string, EventTypeDefinition>(eventTypeDefinitions.map((d) => [d.type, d]));

export function eventTypeDefinition(type: string): EventTypeDefinition | undefined {
  return byType.get(type);
}

export function isKnownEventType(type: string): boolean {
  return byType.has(type);
}

export function allEventTypes(): readonly EventTypeDefinition[] {
  return eventTypeDefinitions;
}

let served: ReturnType<typeof buildEventTypesByGroup> | undefined;

/** The catalog as served by `GET /api/v1/event-types` (built once). */
export function eventTypesByGroup() {
  served ??= buildEventTypesByGroup();
  return served;
}

function buildEventTypesByGroup() {
  return {
    groups: eventGroups.map((g) => ({
      id: g.id,
      name: g.name,
      extension: g.extension === true,
      eventTypes: eventTypeDefinitions
        .filter((d) => d.group === g.id)
        .map((d) => ({
          type: d.type,
          name: friendlyName(d.type),
          channel: d.channel,
          description: d.description,
          deprecated: d.status !== "current",
          piiFields: d.fields.filter((f) => f.pii).map((f) => f.name),
          // The event dictionary: every field with its type, whether the catalog requires it,
          // where it sits in the event and whether it is personal data; and an example event.
          fields: d.fields.map((f) => ({ name: f.name, type: f.type, required: f.required, location: f.location, pii: f.pii === true })),
          example: sampleEvent(d.type, { id: "00000000-0000-4000-8000-000000000000", time: 1732790000, n: 1 }),
        })),
    })),
  };
}
