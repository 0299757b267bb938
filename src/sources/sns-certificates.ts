import { X509Certificate } from "node:crypto";
import { Agent, request } from "undici";
import { guardedLookup } from "../security/ssrf-guard.js";

/** Where SNS signing certificates may come from (aws-js-sns-message-validator's rule). */
export const SNS_HOST = /^sns\.[a-zA-Z0-9-]{3,}\.amazonaws\.com(\.cn)?$/;

/** True when `url` is an https URL on an SNS host (certificates also end in .pem). */
export function isSnsUrl(url: string, pem = false): boolean {
  try {
    const u = new URL(url);
    return u.protocol === "https:" && SNS_HOST.test(u.hostname) && (u.port === "" || u.port === "443") && (!pem || u.pathname.endsWith(".pem"));
  } catch {
    return false;
  }
}

/**
 * SNS signing certificates: fetched only over https from an SNS host, through the SSRF guard
 * with private addresses refused whatever the configuration, and cached (they change rarely).
 */
export class SnsCertificates {
  readonly #cache = new Map<string, { cert: X509Certificate; until: number }>();
  readonly #agent = new Agent({ connect: { lookup: guardedLookup({ allowPrivate: false }) as never, timeout: 5_000 } });

  constructor(private readonly ttlMs = 24 * 3_600_000) {}

  async get(url: string, now: number): Promise<X509Certificate> {
    const hit = this.#cache.get(url);
    if (hit && hit.until > now) return hit.cert;
    if (!isSnsUrl(url, true)) throw new Error("SigningCertURL is not an https .pem URL on an sns.<region>.amazonaws.com host");
    const res = await request(url, { dispatcher: this.#agent, maxRedirections: 0, headersTimeout: 5_000, bodyTimeout: 5_000 } as Parameters<typeof request>[1]);
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`fetching the SNS signing certificate answered ${res.statusCode}`);
    }
    const cert = new X509Certificate(await res.body.text());
    this.#cache.set(url, { cert, until: now + this.ttlMs });
    return cert;
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** Confirms an SNS subscription: a GET of its SubscribeURL (an SNS host over https only). */
export async function confirmSubscription(url: string): Promise<void> {
  if (!isSnsUrl(url)) throw new Error("SubscribeURL is not an https URL on an sns.<region>.amazonaws.com host");
  const agent = new Agent({ connect: { lookup: guardedLookup({ allowPrivate: false }) as never, timeout: 5_000 } });
  try {
    const res = await request(url, { dispatcher: agent, headersTimeout: 5_000, bodyTimeout: 5_000 });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`confirming the subscription answered ${res.statusCode}`);
  } finally {
    await agent.close();
  }
}
