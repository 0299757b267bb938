import { currentsRequest, encodeBatchBody } from "../currents-wire-format.js";
import { definePartner } from "../define-partner.js";
import { signStandardWebhook } from "./standard-webhooks.js";

/** Custom Currents Export: the same wire format to any HTTP endpoint, optionally signed and gzipped. */
export const customHttp = definePartner({
  id: "custom_http",
  title: "Custom Currents Export",
  description: "Streams events to any HTTP endpoint in the Currents format.",
  settings: [
    { key: "endpoint", label: "Endpoint URL", type: "url", required: true, secret: false, help: "Where batches are POSTed (https://...)." },
    { key: "bearerToken", label: "Bearer token", type: "string", required: false, secret: true, minLength: 8, help: "Optional; sent as Authorization: Bearer." },
    { key: "sign", label: "Sign requests", type: "boolean", required: false, secret: false, generates: "signingSecret", help: "Sign each request the Standard Webhooks way; Currents generates the secret (shown once) unless you give one." },
    { key: "signingSecret", label: "Signing secret", type: "string", required: false, secret: true, format: "whsec", rotates: true, help: "Optional; whsec_ + base64 of at least 24 bytes. A new one signs beside the old one for 24 h (two v1 signatures)." },
    { key: "gzip", label: "Gzip request bodies", type: "boolean", required: false, secret: false, help: "Compress bodies (Content-Encoding: gzip); the signature covers the JSON before compression." },
  ],
  limits: { maxBatchEvents: 1000, maxBatchBytes: 5_000_000 },
  buildRequest(batch, settings, now) {
    const request = currentsRequest(batch, settings, { gzip: settings.gzip === true });
    const secret = settings.signingSecret;
    if (typeof secret !== "string" || secret === "") return request;
    // During a rotation's overlap the previous secret signs too: receivers accept either.
    const previous = settings["signingSecret.previous"];
    const secrets = typeof previous === "string" && Date.parse(String(settings["signingSecret.previousUntil"])) > now ? [secret, previous] : [secret];
    const signed = signStandardWebhook(secrets, batch.idempotencyKey, Math.floor(now / 1000), encodeBatchBody(batch.bodies));
    return { ...request, headers: { ...request.headers, ...signed } };
  },
});
