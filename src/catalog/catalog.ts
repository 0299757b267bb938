import { eventTypeDefinitions } from "./catalog.generated.js";
import type { EventGroupId, EventTypeDefinition } from "./types.js";

export const eventGroups: ReadonlyArray<{ id: EventGroupId; name: string }> = [
  { id: "message_engagement", name: "Message engagement events" },
  { id: "customer_behavior", name: "Customer behavior events" },
  { id: "user", name: "User events" },
];

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

/** The catalog as served by `GET /api/v1/event-types`. */
export function eventTypesByGroup() {
  return {
    groups: eventGroups.map((g) => ({
      id: g.id,
      name: g.name,
      eventTypes: eventTypeDefinitions
        .filter((d) => d.group === g.id)
        .map((d) => ({
          type: d.type,
          channel: d.channel,
          description: d.description,
          deprecated: d.status !== "current",
          piiFields: d.fields.filter((f) => f.pii).map((f) => f.name),
        })),
    })),
  };
}
