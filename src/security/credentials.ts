import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Admin tokens and ingest keys are random, high-entropy strings; stored as SHA-256 digests. */
export function hashCredential(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

/** Constant-time check of a presented credential against a stored digest. */
export function credentialMatches(presented: string, storedHash: string): boolean {
  const a = Buffer.from(hashCredential(presented), "hex");
  const b = Buffer.from(storedHash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

export function generateCredential(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString("base64url")}`;
}

/**
 * What the API shows of a secret: "****" and its last characters, never more than 4 of them
 * and never more than a quarter of the secret ("****abcd" for 16 characters or more; "****"
 * alone for fewer than 4).
 */
export function maskSecret(value: string): string {
  const shown = Math.min(4, Math.floor(value.length / 4));
  return `****${shown > 0 ? value.slice(-shown) : ""}`;
}

/** Reads a bearer credential from an Authorization header value. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
