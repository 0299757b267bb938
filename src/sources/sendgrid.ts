import { EventWebhook, EventWebhookHeader } from "@sendgrid/eventwebhook";
import { type Mapped, type ProviderEvent, UnreadablePayload, defineSource, present, stringValues } from "./define-source.js";

/** Signed requests older or newer than this are refused (SendGrid documents no tolerance). */
const WINDOW_S = 600;

const header = (h: Readonly<Record<string, string | string[] | undefined>>, name: string) => {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

/** Event -> catalog type (PARTNER-FORMATS.md section 1). */
function typeOf(e: Record<string, unknown>): { type: string; properties: Record<string, unknown> } | undefined {
  switch (e.event) {
    case "processed": return { type: "users.messages.email.Send", properties: typeof (e.pool as { name?: unknown } | undefined)?.name === "string" ? { ip_pool: (e.pool as { name: string }).name } : {} };
    case "delivered": return { type: "users.messages.email.Delivery", properties: {} };
    case "deferred": return { type: "users.messages.email.Deferral", properties: { deferral_reason: e.response, attempt_count: e.attempt === undefined ? undefined : Number(e.attempt) } };
    case "bounce":
      return e.type === "blocked"
        ? { type: "users.messages.email.SoftBounce", properties: { bounce_reason: [e.status, e.reason].filter(Boolean).join(" ") } }
        : { type: "users.messages.email.Bounce", properties: { bounce_reason: [e.status, e.reason].filter(Boolean).join(" ") } };
    case "dropped": return { type: "users.messages.email.Bounce", properties: { bounce_reason: e.reason, is_drop: true } };
    case "open": return { type: "users.messages.email.Open", properties: { user_agent: e.useragent, machine_open: e.sg_machine_open === undefined ? undefined : String(e.sg_machine_open) } };
    case "click": return { type: "users.messages.email.Click", properties: { url: e.url, user_agent: e.useragent } };
    case "spamreport": return { type: "users.messages.email.MarkAsSpam", properties: {} };
    case "unsubscribe": return { type: "users.messages.email.Unsubscribe", properties: {} };
    case "group_unsubscribe":
    case "group_resubscribe":
      return {
        type: "users.behaviors.subscriptiongroup.StateChange",
        properties: { subscription_group_id: String(e.asm_group_id ?? ""), subscription_status: e.event === "group_unsubscribe" ? "Unsubscribed" : "Subscribed", channel: "email" },
      };
    default: return undefined;
  }
}

/** SendGrid's Signed Event Webhook (PARTNER-FORMATS.md section 1). */
export const sendgrid = defineSource({
  id: "sendgrid",
  title: "SendGrid",
  esp: "SendGrid",
  settings: [
    { key: "publicKey", label: "Verification key", type: "string", required: true, secret: true, minLength: 40, help: "The base64 public key SendGrid shows under Mail Settings > Event Webhook > Signed Event Webhook." },
    { key: "userIdField", label: "User id field", type: "string", required: false, secret: false, default: "external_user_id", pattern: "^[A-Za-z0-9_.-]{1,100}$", patternHelp: "must be a custom arg name (letters, digits, _ . -)", help: "The custom arg holding your user id." },
  ],
  setup: (url) => [
    "In SendGrid: Settings > Mail Settings > Event Webhook > Create new webhook.",
    `Post URL: ${url}; select the events to send.`,
    "Turn on Signed Event Webhook and copy its Verification Key into this source's settings.",
    "Send your user id as a custom arg (unique_args) named as in “User id field”.",
  ],
  verify(req, settings, ctx) {
    const signature = header(req.headers, EventWebhookHeader.SIGNATURE());
    const timestamp = header(req.headers, EventWebhookHeader.TIMESTAMP());
    if (!signature || !timestamp) return { status: 401, error: "missing the SendGrid signature headers", signature: true };
    if (!/^\d+$/.test(timestamp) || Math.abs(ctx.now / 1000 - Number(timestamp)) > WINDOW_S) return { status: 401, error: "the signed timestamp is stale (more than 10 minutes off)", signature: true };
    let ok = false;
    try {
      const ew = new EventWebhook();
      ok = ew.verifySignature(ew.convertPublicKeyToECDSA(String(settings.publicKey)), req.raw, signature, timestamp);
    } catch {
      ok = false;
    }
    return ok ? undefined : { status: 401, error: "the SendGrid signature does not match", signature: true };
  },
  split(req) {
    let body: unknown;
    try {
      body = JSON.parse(req.raw.toString("utf8"));
    } catch {
      throw new UnreadablePayload("the body is not JSON");
    }
    if (!Array.isArray(body)) throw new UnreadablePayload("the body must be a JSON array of events");
    return body.filter((e): e is Record<string, unknown> => e !== null && typeof e === "object").map((e): ProviderEvent => ({
      type: String(e.event ?? "unknown"),
      key: typeof e.sg_event_id === "string" ? e.sg_event_id : [e.sg_message_id, e.event, e.timestamp, e.email, e.url].map((x) => String(x ?? "")).join("|"),
      data: e,
    }));
  },
  map(event): Mapped[] {
    const e = event.data as Record<string, unknown>;
    const t = typeOf(e);
    if (!t || typeof e.email !== "string" || typeof e.timestamp !== "number") return [];
    return [{ type: t.type, time: e.timestamp, email: e.email, ids: stringValues(e), properties: present(t.properties) }];
  },
});
