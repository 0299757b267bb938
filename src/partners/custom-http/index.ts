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
    { key: "bearerToken", label: "Bearer token", type: "string", required: false, secret: true, help: "Optional; sent as Authorization: Bearer." },
    { key: "signingSecret", label: "Signing secret", type: "string", required: false, secret: true, help: "Optional; signs each request the Standard Webhooks way (whsec_... or any string)." },
    { key: "gzip", label: "Gzip request bodies", type: "boolean", required: false, secret: false, help: "Compress bodies (Content-Encoding: gzip)." },
  ],
  limits: { maxBatchEvents: 1000, maxBatchBytes: 5_000_000 },
  buildRequest(batch, settings, now) {
    const request = currentsRequest(batch, settings, { gzip: settings.gzip === true });
    const secret = settings.signingSecret;
    if (typeof secret !== "string" || secret === "") return request;
    const signed = signStandardWebhook(secret, batch.idempotencyKey, Math.floor(now / 1000), encodeBatchBody(batch.bodies));
    return { ...request, headers: { ...request.headers, ...signed } };
  },
});
