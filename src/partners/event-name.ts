import { friendlyName } from "../catalog/friendly-name.js";

/**
 * The event's name for a partner (Heap's server-side API, Amplitude, Mixpanel, Segment): its type, or a friendly name ("Email Open", "Push Notification
 * Send", "SMS Delivery"; a CustomEvent is named by its own `properties.name`; "Purchase"
 * stays "Purchase"), with an optional prefix.
 */
export function eventName(event: Readonly<Record<string, unknown>>, mode: "type" | "friendly", prefix = ""): string {
  const type = String(event.event_type);
  let name = type;
  if (mode === "friendly") {
    const custom = (event.properties as { name?: unknown } | undefined)?.name;
    if (type === "users.behaviors.CustomEvent" && typeof custom === "string" && custom !== "") {
      name = custom;
    } else {
      name = friendlyName(type);
    }
  }
  return `${prefix}${name}`.slice(0, 1024);
}

