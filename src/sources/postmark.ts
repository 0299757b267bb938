import { timingSafeEqual } from "node:crypto";
import { type Mapped, UnreadablePayload, defineSource, stringValues } from "./define-source.js";

const HARD = new Set(["HardBounce", "BadEmailAddress", "Blocked", "DMARCPolicy"]);
const SOFT = new Set(["SoftBounce", "Transient", "DnsError"]);

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/** Postmark's datetimes carry up to 7 fractional digits: trimmed to ms before parsing. */
const seconds = (iso: unknown) => (typeof iso === "string" ? Date.parse(iso.replace(/(\.\d{3})\d+/, "$1")) / 1000 : NaN);

/** Postmark's webhooks, one JSON record per request, Basic auth in the URL (PARTNER-FORMATS.md section 3). */
export const postmark = defineSource({
  id: "postmark",
  title: "Postmark",
  esp: "Postmark",
  settings: [
    { key: "username", label: "Basic auth user", type: "string", required: true, secret: false, pattern: "^[A-Za-z0-9_.-]{1,100}$", patternHelp: "must be letters, digits, _ . - (it goes in the webhook URL)", help: "Put in the webhook URL as https://user:password@…" },
    { key: "password", label: "Basic auth password", type: "string", required: true, secret: true, minLength: 16, help: "At least 16 characters; put in the webhook URL." },
    { key: "userIdField", label: "User id field", type: "string", required: false, secret: false, default: "external_user_id", pattern: "^[A-Za-z0-9_.-]{1,100}$", patternHelp: "must be a metadata key (letters, digits, _ . -)", help: "The message metadata key holding your user id." },
  ],
  setup: (url) => [
    "In Postmark: Servers > your server > the message stream > Webhooks > Add webhook.",
    `Webhook URL: ${url.replace("://", "://<user>:<password>@")} (the user and password of this source).`,
    "Select the events (Delivery, Bounce, Spam Complaint, Open, Link Click, Subscription Change).",
    "Send your user id as message Metadata named as in “User id field”.",
  ],
  verify(req, settings) {
    const h = req.headers.authorization;
    const value = Array.isArray(h) ? h[0] : h;
    const m = value ? /^Basic ([A-Za-z0-9+/=]+)$/.exec(value) : null;
    const given = m ? Buffer.from(m[1] as string, "base64").toString("utf8") : "";
    // 403 stops Postmark's retries: a wrong password will not get better by trying again.
    return m && same(given, `${String(settings.username)}:${String(settings.password)}`) ? undefined : { status: 403, error: "the Basic auth user or password is wrong", signature: true };
  },
  split(req) {
    let e: unknown;
    try {
      e = JSON.parse(req.raw.toString("utf8"));
    } catch {
      throw new UnreadablePayload("the body is not JSON");
    }
    if (e === null || typeof e !== "object" || Array.isArray(e)) throw new UnreadablePayload("the body must be one JSON record");
    const r = e as Record<string, unknown>;
    const messageId = r.MessageID ?? r.MessageId;
    const at = r.DeliveredAt ?? r.ReceivedAt ?? r.ChangedAt ?? r.BouncedAt;
    const key = r.RecordType === "Bounce" && r.ID !== undefined ? `bounce:${String(r.ID)}` : `${String(r.RecordType)}:${String(messageId)}:${String(r.Recipient ?? r.Email)}:${String(at)}`;
    return [{ type: String(r.RecordType ?? "unknown"), key, data: r }];
  },
  map(event): Mapped[] {
    const r = event.data as Record<string, unknown>;
    const email = typeof r.Recipient === "string" ? r.Recipient : typeof r.Email === "string" ? r.Email : undefined;
    const ids = { ...stringValues(r.Metadata), ...(typeof r.Tag === "string" && r.Tag ? { campaign_name: r.Tag } : {}) };
    const one = (type: string, at: unknown, properties: Record<string, unknown> = {}): Mapped[] => {
      const time = seconds(at);
      return email && Number.isFinite(time) ? [{ type, time, email, ids, properties }] : [];
    };
    const ua = typeof r.UserAgent === "string" ? { user_agent: r.UserAgent } : {};
    switch (r.RecordType) {
      case "Delivery": return one("users.messages.email.Delivery", r.DeliveredAt);
      case "Bounce": {
        const reason = [r.Description, r.Details].filter((x) => typeof x === "string" && x).join(": ");
        if (HARD.has(String(r.Type))) return one("users.messages.email.Bounce", r.BouncedAt, { bounce_reason: reason });
        if (r.Type === "ManuallyDeactivated") return one("users.messages.email.Bounce", r.BouncedAt, { bounce_reason: reason, is_drop: true });
        if (SOFT.has(String(r.Type))) return one("users.messages.email.SoftBounce", r.BouncedAt, { bounce_reason: reason });
        return [];
      }
      case "SpamComplaint": return one("users.messages.email.MarkAsSpam", r.BouncedAt);
      case "Open": return one("users.messages.email.Open", r.ReceivedAt, ua);
      case "Click": return one("users.messages.email.Click", r.ReceivedAt, { ...ua, ...(typeof r.OriginalLink === "string" ? { url: r.OriginalLink } : {}) });
      case "SubscriptionChange": return r.SuppressSending === true ? one("users.messages.email.Unsubscribe", r.ChangedAt) : [];
      default: return [];
    }
  },
});
