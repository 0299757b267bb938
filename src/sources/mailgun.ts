import { createHmac, timingSafeEqual } from "node:crypto";
import { type Mapped, UnreadablePayload, defineSource, present, stringValues } from "./define-source.js";

/** Signed timestamps further than this from now are refused (Mailgun names no number). */
const WINDOW_S = 900;

const hmacMatches = (key: string, timestamp: string, token: string, signature: string) => {
  const expected = createHmac("sha256", key).update(timestamp + token).digest();
  const given = Buffer.from(signature, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
};

type Data = Record<string, unknown> & { "delivery-status"?: Record<string, unknown>; envelope?: Record<string, unknown>; "client-info"?: Record<string, unknown> };

/** Mailgun's webhooks, one JSON event per request (PARTNER-FORMATS.md section 2). */
export const mailgun = defineSource({
  id: "mailgun",
  title: "Mailgun",
  esp: "Mailgun",
  unreadableStatus: 406, // Mailgun does not retry a 406
  settings: [
    { key: "signingKey", label: "HTTP webhook signing key", type: "string", required: true, secret: true, minLength: 16, help: "Mailgun: Sending > Webhooks > HTTP webhook signing key." },
    { key: "userIdField", label: "User id field", type: "string", required: false, secret: false, default: "external_user_id", pattern: "^[A-Za-z0-9_.-]{1,100}$", patternHelp: "must be a user-variable name (letters, digits, _ . -)", help: "The user variable (v:) holding your user id." },
  ],
  setup: (url) => [
    "In Mailgun: Sending > Webhooks, pick the domain.",
    `Add this URL for each event type to send: ${url}`,
    "Copy the HTTP webhook signing key into this source's settings.",
    "Send your user id as a user variable (X-Mailgun-Variables) named as in “User id field”.",
  ],
  verify(req, settings, ctx) {
    let body: { signature?: { token?: unknown; timestamp?: unknown; signature?: unknown } };
    try {
      body = JSON.parse(req.raw.toString("utf8")) as typeof body;
    } catch {
      return { status: 406, error: "the body is not JSON (form-encoded legacy webhooks are not taken)" };
    }
    const s = body?.signature;
    if (!s || typeof s.token !== "string" || typeof s.timestamp !== "string" || typeof s.signature !== "string") {
      return { status: 401, error: "missing signature.token, signature.timestamp or signature.signature", signature: true };
    }
    if (!/^\d+$/.test(s.timestamp) || Math.abs(ctx.now / 1000 - Number(s.timestamp)) > WINDOW_S) return { status: 401, error: "the signed timestamp is stale (more than 15 minutes off)", signature: true };
    if (!/^[0-9a-f]{64}$/i.test(s.signature) || !hmacMatches(String(settings.signingKey), s.timestamp, s.token, s.signature)) {
      return { status: 401, error: "the Mailgun signature does not match", signature: true };
    }
    if (!ctx.firstSeen(`mailgun:${s.token}`, 2 * WINDOW_S * 1000)) return { status: 401, error: "this signature token was already used (a replay)", signature: true };
    return undefined;
  },
  split(req) {
    const body = JSON.parse(req.raw.toString("utf8")) as { "event-data"?: unknown };
    const d = body["event-data"];
    if (d === null || typeof d !== "object" || Array.isArray(d)) throw new UnreadablePayload('missing "event-data"');
    const e = d as Data;
    return [{ type: String(e.event ?? "unknown"), key: `${String(e.id)}:${Math.floor(Number(e.timestamp))}`, data: e }];
  },
  map(event): Mapped[] {
    const e = event.data as Data;
    if (typeof e.recipient !== "string" || typeof e.timestamp !== "number") return [];
    const status = e["delivery-status"] ?? {};
    const base = { time: e.timestamp, email: e.recipient, ids: { ...stringValues(e["user-variables"]), ...tagIds(e.tags) } };
    const reason = [status.code, status.message ?? status.description].filter((x) => x !== undefined && x !== "").join(" ");
    switch (e.event) {
      case "accepted": return [{ ...base, type: "users.messages.email.Send", properties: {} }];
      case "delivered": return [{ ...base, type: "users.messages.email.Delivery", properties: present({ sending_ip: e.envelope?.["sending-ip"] }) }];
      case "failed":
        return e.severity === "temporary"
          ? [{ ...base, type: "users.messages.email.Deferral", properties: present({ deferral_reason: reason, attempt_count: status["attempt-no"] === undefined ? undefined : Number(status["attempt-no"]) }) }]
          : [{ ...base, type: "users.messages.email.Bounce", properties: present({ bounce_reason: reason, is_drop: String(e.reason ?? "").startsWith("suppress-") ? true : undefined }) }];
      case "opened": return [{ ...base, type: "users.messages.email.Open", properties: present({ user_agent: e["client-info"]?.["user-agent"] }) }];
      case "clicked": return [{ ...base, type: "users.messages.email.Click", properties: present({ url: e.url, user_agent: e["client-info"]?.["user-agent"] }) }];
      case "unsubscribed": return [{ ...base, type: "users.messages.email.Unsubscribe", properties: {} }];
      case "complained": return [{ ...base, type: "users.messages.email.MarkAsSpam", properties: {} }];
      case "rejected": return [{ ...base, type: "users.messages.email.Abort", properties: present({ abort_type: "rejected", abort_log: reason || (e.reject as { reason?: string } | undefined)?.reason }) }];
      default: return [];
    }
  },
});

/** Tags of the form "key:value" also carry ids (e.g. "campaign_id:c-77"). */
function tagIds(tags: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(tags)) return out;
  for (const t of tags) {
    const m = typeof t === "string" ? /^([A-Za-z0-9_.-]+):(.+)$/.exec(t) : null;
    if (m) out[m[1] as string] = m[2] as string;
  }
  return out;
}
