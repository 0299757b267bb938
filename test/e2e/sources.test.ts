import { spawnSync } from "node:child_process";
import { createHmac, createSign, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import twilio from "twilio";
import { afterEach, describe, expect, it } from "vitest";
import { validateEvent } from "../../src/catalog/validate-event.js";
import { snsStringToSign } from "../../src/sources/ses.js";
import { exited, startChild } from "../support/child-service.js";
import { ADMIN, type Service, launchCurrent, startService, tempDir, waitFor } from "../support/harness.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

const EMAIL_TYPES = ["users.messages.email.Send", "users.messages.email.Delivery", "users.messages.email.Open", "users.messages.email.Click", "users.messages.email.Bounce",
  "users.messages.email.SoftBounce", "users.messages.email.Deferral", "users.messages.email.MarkAsSpam", "users.messages.email.Unsubscribe"];
const SMS_TYPES = ["users.messages.sms.Delivery", "users.messages.sms.Rejection", "users.messages.sms.InboundReceive", "users.messages.sms.CarrierSend"];

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(kind: string, settings: Record<string, unknown>) {
  const receiver: Receiver = await startReceiver();
  const svc: Service = await startService();
  cleanup.push(() => receiver.close(), () => svc.close());
  await launchCurrent(svc, receiver.url, [...EMAIL_TYPES, ...SMS_TYPES]);
  const created = await svc.admin("POST", "/api/v1/sources", { kind, name: `${kind} events`, settings });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const source = created.body as { id: string; webhookPath: string; webhookUrl: string; setup: string[]; settings: Record<string, unknown> };
  const post = (body: string | Buffer, headers: Record<string, string>, query = "") =>
    fetch(`${svc.url}${source.webhookPath}${query}`, { method: "POST", headers, body });
  const stats = async () => (await svc.admin("GET", `/api/v1/sources/${source.id}`)).body.stats;
  return { receiver, svc, source, post, stats };
}

/** Every delivered event passes the catalog's strict validation, as delivered. */
function expectStrictlyValid(events: Array<Record<string, unknown>>) {
  for (const e of events) {
    const v = validateEvent(e, { strict: true });
    expect(v.ok, `${String(e.event_type)}: ${v.ok ? "" : v.error}`).toBe(true);
  }
}

describe("sources: provider webhooks into catalog events", () => {
  it("SendGrid: verifies the ECDSA signature over timestamp + raw body, maps the batch, dedupes a retry, refuses bad and stale signatures", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const key = publicKey.export({ type: "spki", format: "der" }).toString("base64");
    const { receiver, post, stats, source } = await setup("sendgrid", { publicKey: key });
    expect(source.settings.publicKey).toMatch(/^\*\*\*\*/); // sealed, shown masked
    expect(source.setup.join(" ")).toContain(source.webhookUrl);
    const now = Math.floor(Date.now() / 1000);
    const body = JSON.stringify([
      { email: "ann@example.com", timestamp: now, event: "click", sg_event_id: "kCAi1KttyQdEKHhdC-nuEA==", sg_message_id: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
        category: ["welcome"], useragent: "Mozilla/5.0 (iPhone)", ip: "203.0.113.9", url: "https://shop.example.com/p/42", external_user_id: "u_8812", campaign_id: "c-77" },
      { email: "bob@example.com", timestamp: now + 4, event: "bounce", type: "bounce", status: "5.1.1", reason: "550 5.1.1 unknown user", sg_event_id: "6g4ZI7SA-xmRDv57GoPIPw==" },
      { email: "cy@example.com", timestamp: now, event: "processed", sg_event_id: "p-1", pool: { name: "transactional", id: 1 } },
      { email: "cy@example.com", timestamp: now, event: "deferred", sg_event_id: "d-1", response: "400 try again later", attempt: "2" },
      { email: "dee@example.com", timestamp: now, event: "some_new_event", sg_event_id: "n-1" },
    ]);
    const signed = (ts: string, b: string) => sign("sha256", Buffer.from(ts + b), privateKey).toString("base64");
    const headers = (ts: string, b = body) => ({ "content-type": "application/json", "x-twilio-email-event-webhook-signature": signed(ts, b), "x-twilio-email-event-webhook-timestamp": ts });
    const res = await post(body, headers(String(now)));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 4, duplicates: 0, unmapped: 1 });
    await waitFor(() => receiver.events().length === 4);
    const events = receiver.events();
    expectStrictlyValid(events);
    const click = events.find((e) => e.event_type === "users.messages.email.Click");
    expect(click).toMatchObject({ time: now, user: { user_id: "u_8812", external_user_id: "u_8812" },
      properties: { email_address: "ann@example.com", url: "https://shop.example.com/p/42", user_agent: "Mozilla/5.0 (iPhone)", campaign_id: "c-77", esp: "SendGrid" } });
    const bounce = events.find((e) => e.event_type === "users.messages.email.Bounce");
    expect(bounce).toMatchObject({ properties: { bounce_reason: "5.1.1 550 5.1.1 unknown user", synthetic_user_id: true } });
    expect((bounce?.user as { user_id: string }).user_id).toMatch(/^[0-9a-f]{24}$/);
    expect(events.find((e) => e.event_type === "users.messages.email.Deferral")).toMatchObject({ properties: { deferral_reason: "400 try again later", attempt_count: 2 } });
    // SendGrid retries the same batch: acknowledged again, stored once.
    const again = await post(body, headers(String(now + 30)));
    expect(await again.json()).toMatchObject({ accepted: 4, duplicates: 4 });
    // A changed body, a wrong key, a stale timestamp: 401, nothing stored.
    expect((await post(body.replace("ann@", "eve@"), headers(String(now)))).status).toBe(401);
    expect((await post(body, { ...headers(String(now)), "x-twilio-email-event-webhook-signature": sign("sha256", Buffer.from(`${now}${body}`), generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey).toString("base64") })).status).toBe(401);
    expect((await post(body, headers(String(now - 3600)))).status).toBe(401);
    expect((await post(body, { "content-type": "application/json" })).status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.events()).toHaveLength(4);
    const s = await stats();
    expect(s).toMatchObject({ requests: 6, signatureFailures: 4, unmapped: 2, byType: { "users.messages.email.Click": 2, "users.messages.email.Send": 2 } });
    expect(s.recentUnmapped[0]).toMatchObject({ providerType: "some_new_event" });
  });

  it("Mailgun: HMAC of timestamp + token, a replayed token and a stale timestamp refused, 406 for what can never be read", async () => {
    const signingKey = randomBytes(24).toString("hex");
    const { receiver, post, stats } = await setup("mailgun", { signingKey });
    const envelope = (eventData: Record<string, unknown>, token = randomBytes(25).toString("hex"), ts = String(Math.floor(Date.now() / 1000)), keyUsed = signingKey) => JSON.stringify({
      signature: { token, timestamp: ts, signature: createHmac("sha256", keyUsed).update(ts + token).digest("hex") }, "event-data": eventData,
    });
    const failed = { id: "hTWCTD81RtiDN-7Wlb3lPw", event: "failed", severity: "permanent", reason: "bounce", timestamp: Date.now() / 1000 - 2, recipient: "invalid@example.com",
      "delivery-status": { code: 550, "attempt-no": 1, message: "5.1.1 The email account does not exist" }, tags: ["welcome"], "user-variables": { external_user_id: "u_8812", campaign_id: "c-77" } };
    const json = { "content-type": "application/json" };
    const first = envelope(failed);
    expect((await post(first, json)).status).toBe(200);
    expect((await post(first, json)).status).toBe(401); // the same token again: a replay
    expect((await post(envelope(failed), json)).status).toBe(200); // Mailgun's retry: a new token, the same event: stored once
    expect((await post(envelope({ ...failed, id: "open-1", event: "opened", "client-info": { "user-agent": "Mozilla/5.0" } }), json)).status).toBe(200);
    expect((await post(envelope(failed, undefined, String(Math.floor(Date.now() / 1000) - 3600)), json)).status).toBe(401);
    expect((await post(envelope(failed, undefined, undefined, "wrong-key-0123456789"), json)).status).toBe(401);
    expect((await post("not json", json)).status).toBe(406);
    expect((await post(JSON.stringify({ signature: JSON.parse(first).signature }), json)).status).toBe(401); // its token was used
    await waitFor(() => receiver.events().length === 2);
    await new Promise((r) => setTimeout(r, 200));
    const events = receiver.events();
    expect(events).toHaveLength(2);
    expectStrictlyValid(events);
    expect(events[0]).toMatchObject({ event_type: "users.messages.email.Bounce", user: { user_id: "u_8812" },
      properties: { email_address: "invalid@example.com", bounce_reason: "550 5.1.1 The email account does not exist", campaign_id: "c-77", esp: "Mailgun" } });
    expect(events[1]).toMatchObject({ event_type: "users.messages.email.Open", properties: { user_agent: "Mozilla/5.0" } });
    expect(await stats()).toMatchObject({ signatureFailures: 4 }); // the replay, the stale one, the wrong key, the used token
  });

  it("Postmark: Basic auth (403 when wrong, so Postmark stops), every RecordType mapped or counted", async () => {
    const password = randomBytes(12).toString("hex");
    const { receiver, post, stats } = await setup("postmark", { username: "postmark", password });
    const auth = (p = password) => ({ "content-type": "application/json", authorization: `Basic ${Buffer.from(`postmark:${p}`).toString("base64")}` });
    const records = [
      { RecordType: "Delivery", MessageID: "883953f4-6105-42a2-a16a-77a8eac79483", Recipient: "john@example.com", DeliveredAt: "2024-11-27T09:33:20.1234567-05:00", Details: "smtp;250 2.0.0 OK", Tag: "welcome", ServerID: 23, MessageStream: "outbound", Metadata: { external_user_id: "u_1", campaign_id: "c-9" } },
      { RecordType: "Bounce", ID: 4323372036, Type: "HardBounce", TypeCode: 1, Name: "Hard bounce", MessageID: "m-2", Description: "The server was unable to deliver your message", Details: "smtp;550 5.1.1 unknown", Email: "jane@example.com", BouncedAt: "2024-11-27T09:34:00Z", Metadata: {} },
      { RecordType: "Bounce", ID: 42, Type: "AutoResponder", TypeCode: 2, MessageID: "m-3", Email: "away@example.com", BouncedAt: "2024-11-27T09:35:00Z" },
      { RecordType: "Open", FirstOpen: true, UserAgent: "Mozilla/5.0", MessageID: "m-4", ReceivedAt: "2024-11-27T09:36:00Z", Recipient: "john@example.com", Metadata: { external_user_id: "u_1" } },
      { RecordType: "Click", ClickLocation: "HTML", OriginalLink: "https://example.com/a", MessageID: "m-5", ReceivedAt: "2024-11-27T09:37:00Z", Recipient: "john@example.com", Metadata: { external_user_id: "u_1" } },
      { RecordType: "SpamComplaint", ID: 7, MessageID: "m-6", Email: "john@example.com", BouncedAt: "2024-11-27T09:38:00Z" },
      { RecordType: "SubscriptionChange", MessageID: "m-7", ChangedAt: "2024-11-27T09:39:00Z", Recipient: "john@example.com", SuppressSending: true, SuppressionReason: "ManualSuppression" },
    ];
    for (const r of records) expect((await post(JSON.stringify(r), auth())).status).toBe(200);
    expect((await post(JSON.stringify(records[0]), auth())).status).toBe(200); // a retry: stored once
    expect((await post(JSON.stringify(records[0]), auth("wrong-password-000"))).status).toBe(403);
    expect((await post(JSON.stringify(records[0]), { "content-type": "application/json" })).status).toBe(403);
    await waitFor(() => receiver.events().length === 6);
    await new Promise((r) => setTimeout(r, 200));
    const events = receiver.events();
    expect(events.map((e) => e.event_type).sort()).toEqual(["users.messages.email.Bounce", "users.messages.email.Click", "users.messages.email.Delivery",
      "users.messages.email.MarkAsSpam", "users.messages.email.Open", "users.messages.email.Unsubscribe"]);
    expectStrictlyValid(events);
    expect(events.find((e) => e.event_type === "users.messages.email.Delivery")).toMatchObject({ time: 1732718000, user: { user_id: "u_1" }, properties: { campaign_id: "c-9", esp: "Postmark" } });
    expect(events.find((e) => e.event_type === "users.messages.email.Click")).toMatchObject({ properties: { url: "https://example.com/a" } });
    expect(await stats()).toMatchObject({ unmapped: 1, signatureFailures: 2 });
  });

  it("Twilio: X-Twilio-Signature over the public URL and every parameter, user ids from the signed query, inbound SMS", async () => {
    const authToken = randomBytes(16).toString("hex");
    const { receiver, svc, post, stats, source } = await setup("twilio", { authToken, publicUrl: "https://currents.example.com" });
    expect(source.webhookUrl).toBe(`https://currents.example.com${source.webhookPath}`);
    const form = (p: Record<string, string>) => new URLSearchParams(p).toString();
    const send = (p: Record<string, string>, query: string, token = authToken) => post(form(p), {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": twilio.getExpectedTwilioSignature(token, `https://currents.example.com${source.webhookPath}${query}`, p),
    }, query);
    const status = { MessageSid: "SM5f6a0000000000000000000000aa01", SmsSid: "SM5f6a0000000000000000000000aa01", AccountSid: "AC0123456789abcdef0123456789abcdef",
      From: "+14155550100", To: "+14155552671", MessageStatus: "undelivered", SmsStatus: "undelivered", ErrorCode: "30003", ApiVersion: "2010-04-01" };
    const query = "?external_user_id=u_8812&dispatch_id=d-991";
    expect((await send(status, query)).status).toBe(200);
    expect((await send(status, query)).status).toBe(200); // Twilio's retry: stored once
    expect((await send({ ...status, MessageStatus: "delivered", SmsStatus: "delivered", ErrorCode: "" }, query)).status).toBe(200);
    expect((await send({ ...status, MessageStatus: "queued", SmsStatus: "queued" }, query)).status).toBe(200); // no mapping: counted
    expect((await send({ MessageSid: "SMin0000000000000000000000000001", AccountSid: status.AccountSid, From: "+14155552671", To: "+14155550100", Body: "STOP", NumMedia: "0" }, "")).status).toBe(200);
    expect((await send(status, "?external_user_id=someone_else")).status).toBe(200); // signed with its own query: a different status callback URL
    expect((await post(form(status), { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilio.getExpectedTwilioSignature(authToken, `https://currents.example.com${source.webhookPath}${query}`, status) }, "?external_user_id=tampered")).status).toBe(401);
    expect((await send(status, query, "wrong-token-0123456789")).status).toBe(401);
    await waitFor(() => receiver.events().length === 3);
    await new Promise((r) => setTimeout(r, 200));
    const events = receiver.events();
    expect(events).toHaveLength(3);
    expectStrictlyValid(events);
    expect(events[0]).toMatchObject({ event_type: "users.messages.sms.Rejection", user: { user_id: "u_8812" },
      properties: { to_phone_number: "+14155552671", from_phone_number: "+14155550100", provider_error_code: "30003", dispatch_id: "d-991", esp: "Twilio" } });
    expect(events[2]).toMatchObject({ event_type: "users.messages.sms.InboundReceive", properties: { action: "Opt-out", message_body: "STOP", user_phone_number: "+14155552671", synthetic_user_id: true } });
    expect(await stats()).toMatchObject({ unmapped: 1, signatureFailures: 2 });
    // Secrets never come back; an unknown source is a 404.
    expect(JSON.stringify((await svc.admin("GET", "/api/v1/sources")).body)).not.toContain(authToken);
    expect((await fetch(`${svc.url}/v1/sources/no-such-source`, { method: "POST", body: "x" })).status).toBe(404);
  });

  it("Amazon SES through SNS: signature versions 1 and 2 with a preloaded certificate, topics allow-listed, one event per recipient", async () => {
    const dir = tempDir("sns-cert-");
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const made = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=sns.amazonaws.com", "-days", "1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { encoding: "utf8" });
    expect(made.status, made.stderr).toBe(0);
    const privateKey = readFileSync(join(dir, "key.pem"), "utf8");
    const topic = "arn:aws:sns:us-east-1:123456789012:ses-events";
    const { receiver, post, stats } = await setup("ses", { topicArns: topic, certificates: readFileSync(join(dir, "cert.pem"), "utf8") });
    const signed = (m: Record<string, string>, version = "2") => {
      const body = { ...m, SignatureVersion: version, SigningCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem" };
      const signer = createSign(version === "2" ? "RSA-SHA256" : "RSA-SHA1").update(snsStringToSign(body));
      return JSON.stringify({ ...body, Signature: signer.sign(privateKey, "base64") });
    };
    const notification = (message: Record<string, unknown>, id: string, extra: Record<string, string> = {}) => ({
      Type: "Notification", MessageId: id, TopicArn: topic, Timestamp: new Date().toISOString(), Message: JSON.stringify(message), UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe", ...extra,
    });
    const bounce = { eventType: "Bounce", bounce: { bounceType: "Permanent", bouncedRecipients: [{ emailAddress: "r@example.com", diagnosticCode: "smtp; 550 5.1.1 user unknown" }, { emailAddress: "s@example.com" }], timestamp: "2024-11-27T09:41:02.669Z" },
      mail: { timestamp: "2024-11-27T09:41:00.000Z", messageId: "0100018f", destination: ["r@example.com", "s@example.com"], tags: { external_user_id: ["u_8812"], campaign_id: ["c-77"] } } };
    const text = { "content-type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": "Notification" };
    expect((await post(signed(notification(bounce, "19ba9823-d7f2-53c1-860e-cb10e0d13dfc")), text)).status).toBe(200);
    expect((await post(signed(notification(bounce, "19ba9823-d7f2-53c1-860e-cb10e0d13dfc")), text)).status).toBe(200); // SNS's retry reuses MessageId: stored once
    const open = { eventType: "Open", open: { userAgent: "Mozilla/5.0", timestamp: "2024-11-27T10:00:00.000Z" }, mail: { destination: ["r@example.com"], tags: {} } };
    expect((await post(signed(notification(open, "m-open"), "1"), text)).status).toBe(200); // SignatureVersion 1 (SHA1)
    expect((await post(signed({ ...notification(open, "m-text"), Message: "Successfully validated SNS topic for Amazon SES event publishing." }), text)).status).toBe(200);
    // Refused: another topic, a stale message, a tampered message, a confirmation whose SubscribeURL is not SNS.
    expect((await post(signed({ ...notification(open, "m-x"), TopicArn: "arn:aws:sns:us-east-1:999999999999:other" }), text)).status).toBe(403);
    expect((await post(signed(notification(open, "m-y", { Timestamp: new Date(Date.now() - 2 * 3_600_000).toISOString() })), text)).status).toBe(401);
    expect((await post(signed(notification(open, "m-z")).replace("Mozilla", "Evil"), text)).status).toBe(401);
    const confirmation = { Type: "SubscriptionConfirmation", MessageId: "c-1", Token: "tok", TopicArn: topic, Message: "You have chosen to subscribe", SubscribeURL: "https://evil.example.com/confirm", Timestamp: new Date().toISOString() };
    expect((await post(signed(confirmation), { "content-type": "text/plain" })).status).toBe(400);
    await waitFor(() => receiver.events().length === 3);
    await new Promise((r) => setTimeout(r, 200));
    const events = receiver.events();
    expect(events).toHaveLength(3);
    expectStrictlyValid(events);
    expect(events.slice(0, 2).map((e) => (e.properties as { email_address: string }).email_address)).toEqual(["r@example.com", "s@example.com"]);
    expect(events[0]).toMatchObject({ event_type: "users.messages.email.Bounce", time: 1732700462, user: { user_id: "u_8812" }, properties: { bounce_reason: "smtp; 550 5.1.1 user unknown", campaign_id: "c-77", esp: "Amazon SES" } });
    expect(events[2]).toMatchObject({ event_type: "users.messages.email.Open", properties: { user_agent: "Mozilla/5.0", synthetic_user_id: true } });
    expect(await stats()).toMatchObject({ unmapped: 1, signatureFailures: 3 });
  });

  it("names what is wrong in a source's settings", async () => {
    const svc = await startService();
    cleanup.push(() => svc.close());
    const bad = async (body: Record<string, unknown>) => (await svc.admin("POST", "/api/v1/sources", body)).body.error;
    expect(await bad({ kind: "nope", name: "x" })).toMatchObject({ field: "kind" });
    expect(await bad({ kind: "sendgrid", name: "x", settings: {} })).toMatchObject({ field: "settings.publicKey" });
    expect(await bad({ kind: "twilio", name: "x", settings: { authToken: "0123456789abcdef0123", publicUrl: "currents.example.com" } })).toMatchObject({ field: "settings.publicUrl" });
    expect(await bad({ kind: "postmark", name: "x", settings: { username: "u", password: "short" } })).toMatchObject({ field: "settings.password" });
  });
});

describe("sources: kill -9", () => {
  it("loses nothing a webhook was answered 2xx for", async () => {
    const receiver = await startReceiver((_r, i) => (i < 3 ? { status: 503 } : { status: 200 }));
    cleanup.push(() => receiver.close());
    const dataDir = tempDir();
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const box = { child: await startChild(dataDir) };
    cleanup.push(() => { box.child.proc.kill("SIGKILL"); });
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${box.child.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return (await res.json().catch(() => undefined)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const current = await api("POST", "/api/v1/currents", { name: "out", partner: "custom_http", settings: { endpoint: receiver.url }, events: ["users.messages.email.Delivery"], batching: { lingerMs: 10 } });
    await api("POST", `/api/v1/currents/${current.id}/launch`);
    const password = randomBytes(12).toString("hex");
    const source = await api("POST", "/api/v1/sources", { kind: "postmark", name: "pm", settings: { username: "pm", password } });
    const headers = { "content-type": "application/json", authorization: `Basic ${Buffer.from(`pm:${password}`).toString("base64")}` };
    const answered: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = { RecordType: "Delivery", MessageID: `m-${i}`, Recipient: `r${i}@example.com`, DeliveredAt: new Date().toISOString(), Metadata: { external_user_id: `u-${i}` } };
      const res = await fetch(`${box.child.url}/v1/sources/${source.id}`, { method: "POST", headers, body: JSON.stringify(r) });
      if (res.status === 200) answered.push(r.Recipient);
      if (i === 20) {
        box.child.proc.kill("SIGKILL");
        await exited(box.child.proc);
        box.child = await startChild(dataDir);
      }
    }
    expect(answered).toHaveLength(40);
    await waitFor(() => answered.every((a) => receiver.events().some((e) => (e.properties as { email_address?: string }).email_address === a)), 30_000, "every answered webhook delivered");
  });
});
