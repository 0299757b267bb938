import { createHmac } from "node:crypto";

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-id`,
 * `webhook-timestamp` (seconds) and `webhook-signature: v1,<base64 HMAC-SHA256>` over
 * `${id}.${timestamp}.${body}` (the JSON before any gzip). The key is the base64 after
 * `whsec_`, as the official libraries read it. Several secrets (a rotation's overlap) give
 * several space-separated signatures; a receiver accepts the request when one matches.
 * (A secret saved before secrets had to be `whsec_` is used as UTF-8 bytes.)
 */
export function signStandardWebhook(secrets: string | readonly string[], id: string, timestampSeconds: number, body: string | Buffer): Record<string, string> {
  const signatures = (typeof secrets === "string" ? [secrets] : secrets).map((secret) => {
    const key = secret.startsWith("whsec_") ? Buffer.from(secret.slice(6), "base64") : Buffer.from(secret, "utf8");
    return `v1,${createHmac("sha256", key).update(`${id}.${timestampSeconds}.`).update(body).digest("base64")}`;
  });
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": signatures.join(" "),
  };
}
