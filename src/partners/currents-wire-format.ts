import { gzipSync } from "node:zlib";
import { VERSION } from "../version.js";
import type { OutgoingBatch, OutgoingRequest, ResolvedSettings } from "./define-partner.js";

const OPEN = Buffer.from('{"events":[');
const CLOSE = Buffer.from("]}");

/**
 * The wire format shared by Heap Export and Custom Currents Export (SPEC section 5):
 * `POST <endpoint>` with `{"events":[...]}`, the events joined as stored (never re-serialised),
 * written straight into the bytes that are sent: no batch-sized string is built, which at
 * many Currents was most of the garbage the collector had to deal with.
 */
export function encodeBatchBody(bodies: readonly string[]): Buffer {
  let size = OPEN.length + CLOSE.length + Math.max(0, bodies.length - 1);
  for (const b of bodies) size += Buffer.byteLength(b);
  const buf = Buffer.allocUnsafe(size);
  let at = OPEN.copy(buf, 0);
  bodies.forEach((b, i) => {
    if (i > 0) buf[at++] = 44; // ","
    at += buf.write(b, at);
  });
  CLOSE.copy(buf, at);
  return buf;
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
