import { currentsRequest } from "../currents-wire-format.js";
import { definePartner } from "../define-partner.js";

/** Heap Export: batches POSTed to the webhook URL Heap gives, with an optional bearer token. */
export const heap = definePartner({
  id: "heap",
  title: "Heap Export",
  description: "Streams events to Heap through the webhook URL your Heap account manager gives you.",
  settings: [
    { key: "endpoint", label: "Endpoint URL", type: "url", required: true, secret: false, help: "The Heap webhook URL (https://...)." },
    { key: "bearerToken", label: "Bearer token", type: "string", required: false, secret: true, minLength: 8, help: "Optional; sent as Authorization: Bearer." },
  ],
  limits: { maxBatchEvents: 1000, maxBatchBytes: 5_000_000 },
  buildRequest: (batch, settings) => currentsRequest(batch, settings),
});
