/** Friendly names of event types, as people read them (the dashboard, partners that take names). */
const CHANNELS: Record<string, string> = {
  email: "Email", pushnotification: "Push Notification", sms: "SMS", inappmessage: "In-App Message", contentcard: "Content Card",
  newsfeedcard: "News Feed Card", webhook: "Webhook", whatsapp: "WhatsApp", line: "LINE", rcs: "RCS", banner: "Banner",
  featureflag: "Feature Flag", liveactivity: "Live Activity", subscription: "Subscription", subscriptiongroup: "Subscription Group",
  campaigns: "Campaign", canvas: "Canvas", canvasstep: "Canvas Step", costep: "Step", exit: "Exit", experimentstep: "Experiment Step",
  profile: "Profile", agentconsole: "Agent Console", cohorts: "Cohort",
};

/** "GlobalStateChange" -> "Global State Change". */
const words = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2");

/** "users.messages.email.Open" -> "Email Open", "users.messages.pushnotification.Send" -> "Push Notification Send", "users.behaviors.Purchase" -> "Purchase". */
export function friendlyName(type: string): string {
  const parts = type.split(".");
  const last = parts.pop() as string;
  const middle = parts.filter((p) => !["users", "messages", "behaviors", "app"].includes(p)).map((p) => CHANNELS[p] ?? words(p));
  return [...middle, words(last)].join(" ");
}
