/**
 * Event names for analytics partners (Heap's server-side API, Amplitude, Mixpanel, Segment):
 * the type as it is, or a friendly name people read.
 */
const CHANNELS: Record<string, string> = {
  email: "Email", pushnotification: "Push Notification", sms: "SMS", inappmessage: "In-App Message", contentcard: "Content Card",
  newsfeedcard: "News Feed Card", webhook: "Webhook", whatsapp: "WhatsApp", line: "LINE", rcs: "RCS", banner: "Banner",
  featureflag: "Feature Flag", liveactivity: "Live Activity", subscription: "Subscription", subscriptiongroup: "Subscription Group",
  campaigns: "Campaign", canvas: "Canvas", canvasstep: "Canvas Step", costep: "Step", exit: "Exit", experimentstep: "Experiment Step",
  profile: "Profile", agentconsole: "Agent Console",
};

/** "GlobalStateChange" -> "Global State Change". */
const words = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2");

/**
 * The event's name for a partner: its type, or a friendly name ("Email Open", "Push Notification
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
      const parts = type.split(".");
      const last = parts.pop() as string;
      const middle = parts.filter((p) => !["users", "messages", "behaviors", "app"].includes(p)).map((p) => CHANNELS[p] ?? words(p));
      name = [...middle, words(last)].join(" ");
    }
  }
  return `${prefix}${name}`.slice(0, 1024);
}

