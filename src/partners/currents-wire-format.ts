import { gzipSync } from "node:zlib";
import { VERSION } from "../version.js";
import type { OutgoingBatch, OutgoingRequest, ResolvedSettings } from "./define-partner.js";

/**
 * The wire format shared by Heap Export and Custom Currents Export (SPEC section 5):
 * `POST <endpoint>` with `{"events":[...]}`, the events joined as stored (never re-serialised).
 */
export function encodeBatchBody(bodies: readonly string[]): string {
  return `{"events":[${bodies.join(",")}]}`;
}

export function currentsRequest(batch: OutgoingBatch, settings: ResolvedSettings, options: { gzip?: boolean } = {}): OutgoingRequest {
  const text = encodeBatchBody(batch.bodies);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "braze-currents-version": "1",
    "user-agent": `currents/${VERSION}`,
    "idempotency-key": batch.idempotencyKey,
  };
  const token = settings.bearerToken;
  if (typeof token === "string" && token !== "") headers.authorization = `Bearer ${token}`;
  if (options.gzip) {
    headers["content-encoding"] = "gzip";
    return { url: String(settings.endpoint), headers, body: gzipSync(text, { level: 1 }) };
  }
  return { url: String(settings.endpoint), headers, body: text };
}
