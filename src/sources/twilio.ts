import twilio from "twilio";
import { type Mapped, UnreadablePayload, defineSource, present } from "./define-source.js";

const STATUS: Record<string, string> = {
  sent: "users.messages.sms.CarrierSend",
  delivered: "users.messages.sms.Delivery",
  undelivered: "users.messages.sms.Rejection",
  failed: "users.messages.sms.DeliveryFailure",
};

/** The form's parameters, repeated keys kept in order (Twilio signs every value). */
function form(raw: Buffer): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(raw.toString("utf8"))) {
    const had = out[k];
    out[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
  }
  return out;
}

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** The inbound message's keyword category, as carriers define them (anything else: "Other"). */
function keywordAction(body: string | undefined): string {
  const word = (body ?? "").trim().toUpperCase();
  if (/^(STOP|STOPALL|UNSUBSCRIBE|CANCEL|END|QUIT)$/.test(word)) return "Opt-out";
  if (/^(START|YES|UNSTOP)$/.test(word)) return "Opt-in";
  if (/^(HELP|INFO)$/.test(word)) return "Help";
  return "Other";
}

/** "YYMMDDhhmm" of some delivery receipts, in UTC. */
const dlrSeconds = (v: string | undefined) => {
  const m = v ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(v) : null;
  return m ? Date.UTC(2000 + Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5])) / 1000 : undefined;
};

/**
 * Twilio Messaging status callbacks and incoming SMS (PARTNER-FORMATS.md section 4):
 * form-encoded, `X-Twilio-Signature` checked by the `twilio` package against the public URL
 * the operator configures (behind a proxy the URL Currents sees differs from Twilio's).
 */
export const twilioSms = defineSource({
  id: "twilio",
  title: "Twilio SMS",
  esp: "Twilio",
  settings: [
    { key: "authToken", label: "Auth token", type: "string", required: true, secret: true, minLength: 16, help: "Twilio Console > Account > API keys & tokens > Auth token (signs every callback)." },
    { key: "publicUrl", label: "Public URL of Currents", type: "string", required: true, secret: false, pattern: "^https?://[^\\s/?#]+(/[^\\s?#]*)?$", patternHelp: "must be the base URL Twilio calls, e.g. https://currents.example.com (no query)", help: "The base URL of Currents as Twilio calls it (signatures cover the exact URL)." },
    { key: "userIdField", label: "User id field", type: "string", required: false, secret: false, default: "external_user_id", pattern: "^[A-Za-z0-9_.-]{1,100}$", patternHelp: "must be a query parameter name (letters, digits, _ . -)", help: "The StatusCallback query parameter holding your user id." },
  ],
  setup: (url) => [
    `Status callbacks: set StatusCallback (per message, or on the Messaging Service) to ${url}?external_user_id=<user id>.`,
    "Incoming SMS: set the number's or the Messaging Service's incoming webhook to the same URL (HTTP POST).",
    "Copy the account's Auth token into this source's settings, and its public URL as Twilio calls it.",
  ],
  verify(req, settings) {
    const sig = first(req.headers["x-twilio-signature"]);
    if (!sig) return { status: 401, error: "missing X-Twilio-Signature", signature: true };
    const url = `${String(settings.publicUrl).replace(/\/+$/, "")}${req.url}`;
    const ok = twilio.validateRequest(String(settings.authToken), sig, url, form(req.raw) as Record<string, string>);
    return ok ? undefined : { status: 401, error: "the Twilio signature does not match (is the public URL the one Twilio calls?)", signature: true };
  },
  split(req) {
    if (!/x-www-form-urlencoded/.test(req.contentType)) throw new UnreadablePayload("Twilio sends application/x-www-form-urlencoded");
    const p = form(req.raw);
    const sid = first(p.MessageSid) ?? first(p.SmsSid);
    if (!sid) throw new UnreadablePayload("missing MessageSid");
    const status = first(p.MessageStatus) ?? first(p.SmsStatus);
    const inbound = status === undefined || status === "received";
    const type = inbound ? "inbound" : status;
    return [{ type, key: `${sid}:${type}`, data: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, first(v)])) }];
  },
  map(event, req): Mapped[] {
    const p = event.data as Record<string, string | undefined>;
    const ids = { ...req.query };
    if (event.type === "inbound") {
      if (!p.From || !p.To) return [];
      const media = Array.from({ length: Number(p.NumMedia ?? 0) }, (_, i) => p[`MediaUrl${i}`]).filter((x): x is string => !!x);
      return [{
        type: "users.messages.sms.InboundReceive", time: Date.now() / 1000, phone: p.From, ids,
        properties: { user_phone_number: p.From, inbound_phone_number: p.To, action: keywordAction(p.Body), message_body: p.Body ?? "", app_group_id: p.AccountSid ?? "", ...(media.length ? { media_urls: media } : {}) },
      }];
    }
    const type = STATUS[event.type];
    if (!type || !p.To) return [];
    return [{
      type, time: dlrSeconds(p.RawDlrDoneDate) ?? Date.now() / 1000, phone: p.To, ids,
      properties: present({ to_phone_number: p.To, from_phone_number: p.From, provider_error_code: p.ErrorCode, error: p.ErrorMessage }),
    }];
  },
});
