import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import type { ReceivedRequest } from "../support/receiver.js";
import { closedAfterEach, waitFor } from "../support/harness.js";

/** SPEC section 5: Standard Webhooks signatures that the official verifiers accept as they are. */
const use = closedAfterEach();
const TYPE = "users.messages.email.Send";
const headersOf = (r: ReceivedRequest) => Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));

/** Verifies a received request with both official libraries; the raw body is the JSON before gzip. */
function verifies(secret: string, r: ReceivedRequest): boolean {
  try {
    new StandardWebhook(secret).verify(r.raw, headersOf(r));
    new SvixWebhook(secret).verify(r.raw, headersOf(r));
    return true;
  } catch {
    return false;
  }
}

describe("signed deliveries", () => {
  it("generates a whsec_ secret when asked (shown once), signs every request, gzip or not, and both official verifiers accept it", async () => {
    const receiver = await use.receiver();
    const svc = await use.service();
    const created = await svc.admin("POST", "/api/v1/currents", { name: "Signed", partner: "custom_http", settings: { endpoint: receiver.url, sign: true, gzip: true }, events: [TYPE] });
    expect(created.status).toBe(201);
    const secret = created.body.secretsShownOnce.signingSecret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.body.settings.signingSecret).toBe(`****${secret.slice(-4)}`);
    expect((await svc.admin("GET", `/api/v1/currents/${created.body.id}`)).body.secretsShownOnce).toBeUndefined();
    await svc.admin("POST", `/api/v1/currents/${created.body.id}/launch`);
    await svc.ingest([sampleEvent(TYPE), sampleEvent(TYPE)]);
    await waitFor(() => receiver.requests.length >= 1);
    const r = receiver.requests[0] as ReceivedRequest;
    expect(r.headers["content-encoding"]).toBe("gzip");
    expect(verifies(secret, r)).toBe(true);
    expect(verifies("whsec_" + Buffer.alloc(32, 7).toString("base64"), r)).toBe(false);
  });

  it("refuses a signing secret that is not whsec_ + base64 of at least 24 bytes, naming the field", async () => {
    const svc = await use.service();
    for (const signingSecret of ["whsec_not*base64!!", "a-plain-string-secret", `whsec_${Buffer.alloc(16).toString("base64")}`, "whsec_"]) {
      const r = await svc.admin("POST", "/api/v1/currents", { name: "x", partner: "custom_http", settings: { endpoint: "https://example.com/x", signingSecret }, events: [] });
      expect(r.status, signingSecret).toBe(400);
      expect(r.body.error.field).toBe("settings.signingSecret");
    }
  });

  it("rotates: the new secret signs beside the old one for 24 h (two v1 signatures), then alone", async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    const receiver = await use.receiver();
    const svc = await use.service({ app: { now } });
    const oldSecret = `whsec_${Buffer.alloc(32, 1).toString("base64")}`;
    const newSecret = `whsec_${Buffer.alloc(32, 2).toString("base64")}`;
    const created = await svc.admin("POST", "/api/v1/currents", { name: "Rot", partner: "custom_http", settings: { endpoint: receiver.url, signingSecret: oldSecret }, events: [TYPE] });
    const id = created.body.id as string;
    await svc.admin("POST", `/api/v1/currents/${id}/launch`);
    expect((await svc.admin("PATCH", `/api/v1/currents/${id}`, { settings: { signingSecret: newSecret } })).status).toBe(200);
    await svc.ingest([sampleEvent(TYPE, { id: "during-overlap" })]);
    await waitFor(() => receiver.requests.length >= 1);
    const during = receiver.requests[0] as ReceivedRequest;
    expect(String(during.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(verifies(oldSecret, during)).toBe(true);
    expect(verifies(newSecret, during)).toBe(true);
    // The view shows the rotation; sending the settings back as shown changes nothing.
    const shown = (await svc.admin("GET", `/api/v1/currents/${id}`)).body.settings as Record<string, unknown>;
    expect(shown["signingSecret.previous"]).toBe(`****${oldSecret.slice(-4)}`);
    const back = await svc.admin("PATCH", `/api/v1/currents/${id}`, { settings: shown });
    expect(back.status, JSON.stringify(back.body)).toBe(200);
    offset = 25 * 3_600_000;
    // (the official verifiers refuse timestamps more than 5 minutes off their own clock: check the count only)
    await svc.ingest([sampleEvent(TYPE, { id: "after-overlap" })]);
    await waitFor(() => receiver.requests.length >= 2);
    expect(String((receiver.requests[1] as ReceivedRequest).headers["webhook-signature"]).split(" ")).toHaveLength(1);
  });

  it("never shows more than 4 characters nor a quarter of a secret, and refuses bearer tokens shorter than 8", async () => {
    const svc = await use.service();
    const short = await svc.admin("POST", "/api/v1/currents", { name: "x", partner: "heap", settings: { endpoint: "https://example.com/x", bearerToken: "abc" }, events: [] });
    expect(short.status).toBe(400);
    expect(short.body.error.message).toMatch(/settings.bearerToken: must be at least 8 characters/);
    const eight = await svc.admin("POST", "/api/v1/currents", { name: "x", partner: "heap", settings: { endpoint: "https://example.com/x", bearerToken: "abcdefgh" }, events: [] });
    expect(eight.body.settings.bearerToken).toBe("****gh");
    const long = await svc.admin("POST", "/api/v1/currents", { name: "x", partner: "heap", settings: { endpoint: "https://example.com/x", bearerToken: "abcdefghijklmnopqrstuvwxyz" }, events: [] });
    expect(long.body.settings.bearerToken).toBe("****wxyz");
  });
});
