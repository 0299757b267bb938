import { X509Certificate, createVerify } from "node:crypto";
import { type Mapped, type ProviderEvent, type Refusal, UnreadablePayload, defineSource, present } from "./define-source.js";
import { SnsCertificates, confirmSubscription } from "./sns-certificates.js";

/** SNS retries for at most an hour: an older message is refused. */
const MAX_AGE_MS = 3_600_000;
const certificates = new SnsCertificates();

type Sns = Record<string, string | undefined>;
const NOTIFICATION_KEYS = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"];
const CONFIRMATION_KEYS = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];

/** SNS's string to sign: `key\nvalue\n` for each present key, in order. */
export function snsStringToSign(m: Sns): string {
  const keys = m.Type === "Notification" ? NOTIFICATION_KEYS : CONFIRMATION_KEYS;
  return keys.filter((k) => m[k] !== undefined).map((k) => `${k}\n${m[k]}\n`).join("");
}

/** The PEM certificates a setting holds (preloaded for air-gapped installs). */
function preloaded(text: unknown): X509Certificate[] {
  if (typeof text !== "string") return [];
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]));
}

function parse(raw: Buffer): Sns {
  try {
    const m = JSON.parse(raw.toString("utf8")) as unknown;
    if (m !== null && typeof m === "object" && !Array.isArray(m)) return m as Sns;
  } catch {
    // fall through
  }
  throw new UnreadablePayload("the body is not an SNS message (JSON)");
}

async function verifySns(m: Sns, settings: Readonly<Record<string, unknown>>, now: number): Promise<Refusal | undefined> {
  const topics = String(settings.topicArns ?? "").split(",").map((t) => t.trim()).filter(Boolean);
  if (!m.TopicArn || !topics.includes(m.TopicArn)) return { status: 403, error: `topic ${String(m.TopicArn).slice(0, 200)} is not in this source's topicArns`, signature: true };
  const at = Date.parse(String(m.Timestamp));
  if (!Number.isFinite(at) || Math.abs(now - at) > MAX_AGE_MS) return { status: 401, error: "the SNS message is older than an hour (or has no Timestamp)", signature: true };
  const algorithm = m.SignatureVersion === "2" ? "RSA-SHA256" : m.SignatureVersion === "1" ? "RSA-SHA1" : undefined;
  if (!algorithm || !m.Signature) return { status: 401, error: "missing Signature or an unknown SignatureVersion", signature: true };
  const data = snsStringToSign(m);
  const signature = Buffer.from(m.Signature, "base64");
  const matches = (cert: X509Certificate) => createVerify(algorithm).update(data, "utf8").verify(cert.publicKey, signature);
  const local = preloaded(settings.certificates);
  if (local.length > 0) return local.some(matches) ? undefined : { status: 401, error: "the SNS signature matches none of the preloaded certificates", signature: true };
  try {
    return matches(await certificates.get(String(m.SigningCertURL), now)) ? undefined : { status: 401, error: "the SNS signature does not match", signature: true };
  } catch (error) {
    return { status: 401, error: `could not check the SNS signature: ${(error as Error).message}`, signature: true };
  }
}

const iso = (v: unknown) => (typeof v === "string" ? Date.parse(v) / 1000 : NaN);

/**
 * Amazon SES events through SNS (PARTNER-FORMATS.md section 5): signature versions 1 and 2,
 * an allow-list of topics, SubscriptionConfirmation confirmed when its topic is allowed, one
 * catalog event per recipient.
 */
export const ses = defineSource({
  id: "ses",
  title: "Amazon SES (through SNS)",
  esp: "Amazon SES",
  settings: [
    { key: "topicArns", label: "SNS topic ARNs", type: "string", required: true, secret: false, pattern: "^arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_-]{1,256}(\\s*,\\s*arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[A-Za-z0-9_-]{1,256})*$", patternHelp: "must be SNS topic ARNs (arn:aws:sns:<region>:<account>:<topic>) joined by commas", help: "Only these topics are taken: any AWS account can sign an SNS message." },
    { key: "certificates", label: "Signing certificates (PEM)", type: "string", multiline: true, required: false, secret: false, help: "Optional, for installs that cannot reach amazonaws.com: the SNS signing certificates' PEM text. Otherwise fetched over https from sns.<region>.amazonaws.com and cached." },
    { key: "userIdField", label: "User id field", type: "string", required: false, secret: false, default: "external_user_id", pattern: "^[A-Za-z0-9_.-]{1,100}$", patternHelp: "must be a message tag name (letters, digits, _ . -)", help: "The SES message tag holding your user id (needs a configuration set)." },
  ],
  setup: (url) => [
    "In SES: Configuration sets > your set > Event destinations > Add: Amazon SNS, with the event types to send.",
    `In SNS: the topic > Create subscription: protocol HTTPS, endpoint ${url}; Currents confirms it when the topic is in this source's list.`,
    "Set the topic's SignatureVersion to 2 (SHA256); put the topic ARN in this source's settings.",
    "Tag each message with your user id (a message tag named as in “User id field”).",
  ],
  async verify(req, settings, ctx) {
    let m: Sns;
    try {
      m = parse(req.raw);
    } catch {
      return { status: 400, error: "the body is not an SNS message (JSON)" };
    }
    const header = req.headers["x-amz-sns-message-type"];
    if (header !== undefined && header !== m.Type) return { status: 400, error: "x-amz-sns-message-type does not match the message's Type" };
    const refusal = await verifySns(m, settings, ctx.now);
    if (refusal) return refusal;
    if (m.Type === "SubscriptionConfirmation") {
      try {
        await confirmSubscription(String(m.SubscribeURL));
      } catch (error) {
        return { status: 400, error: `could not confirm the SNS subscription: ${(error as Error).message}` };
      }
    }
    return undefined;
  },
  split(req): ProviderEvent[] {
    const m = parse(req.raw);
    if (m.Type !== "Notification") return [];
    let event: unknown;
    try {
      event = JSON.parse(String(m.Message));
    } catch {
      return [{ type: "not SES JSON", key: String(m.MessageId), data: { Message: String(m.Message).slice(0, 200) } }]; // e.g. "Successfully validated SNS topic..."
    }
    const e = (event ?? {}) as Record<string, unknown>;
    return [{ type: String(e.eventType ?? e.notificationType ?? "unknown"), key: String(m.MessageId), data: e }];
  },
  map(event): Mapped[] {
    const e = event.data as Record<string, Record<string, unknown> | undefined> & { eventType?: string };
    const mail = (e.mail ?? {}) as { timestamp?: string; destination?: string[]; tags?: Record<string, string[]> };
    const ids = Object.fromEntries(Object.entries(mail.tags ?? {}).filter(([, v]) => Array.isArray(v) && typeof v[0] === "string").map(([k, v]) => [k, v[0] as string]));
    const each = (type: string, recipients: Array<{ email: string; properties?: Record<string, unknown> }>, at: unknown): Mapped[] => {
      const time = Number.isFinite(iso(at)) ? iso(at) : iso(mail.timestamp);
      return Number.isFinite(time) ? recipients.map((r) => ({ type, time, email: r.email, ids, properties: r.properties ?? {}, keySuffix: r.email })) : [];
    };
    const all = (properties: Record<string, unknown> = {}) => (mail.destination ?? []).map((email) => ({ email, properties }));
    switch (event.type) {
      case "Send": return each("users.messages.email.Send", all(), mail.timestamp);
      case "Delivery": return each("users.messages.email.Delivery", ((e.delivery?.recipients as string[] | undefined) ?? []).map((email) => ({ email })), e.delivery?.timestamp);
      case "Bounce": {
        const permanent = e.bounce?.bounceType === "Permanent";
        const recipients = ((e.bounce?.bouncedRecipients as Array<{ emailAddress: string; diagnosticCode?: string }> | undefined) ?? [])
          .map((r) => ({ email: r.emailAddress, properties: r.diagnosticCode ? { bounce_reason: r.diagnosticCode } : {} }));
        return each(permanent ? "users.messages.email.Bounce" : "users.messages.email.SoftBounce", recipients, e.bounce?.timestamp);
      }
      case "Complaint": return each("users.messages.email.MarkAsSpam", ((e.complaint?.complainedRecipients as Array<{ emailAddress: string }> | undefined) ?? []).map((r) => ({ email: r.emailAddress })), e.complaint?.timestamp);
      // SES does not say which recipient opened or clicked: every recipient of the message (as anymail does).
      case "Open": return each("users.messages.email.Open", all(present({ user_agent: e.open?.userAgent })), e.open?.timestamp);
      case "Click": return each("users.messages.email.Click", all(present({ url: e.click?.link, user_agent: e.click?.userAgent })), e.click?.timestamp);
      case "Reject": return each("users.messages.email.Bounce", all({ bounce_reason: String(e.reject?.reason ?? "rejected"), is_drop: true }), mail.timestamp);
      case "DeliveryDelay": return each("users.messages.email.Deferral", all(present({ deferral_reason: e.deliveryDelay?.delayType })), e.deliveryDelay?.timestamp);
      case "Rendering Failure": return each("users.messages.email.Abort", all(present({ abort_type: "rendering_failure", abort_log: e.failure?.errorMessage })), mail.timestamp);
      default: return [];
    }
  },
});
