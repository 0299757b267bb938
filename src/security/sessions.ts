import { randomBytes, timingSafeEqual } from "node:crypto";
import { hashCredential } from "./credentials.js";

export type AdminRole = "admin" | "readonly";

interface Session {
  readonly role: AdminRole;
  readonly csrfToken: string;
  readonly expiresAt: number;
}

export const SESSION_COOKIE = "currents_session";

/**
 * Dashboard sessions: the admin (or read-only) token is exchanged for a random session id in
 * an HttpOnly, SameSite=Strict cookie. Cookie-authenticated changes must also carry the
 * session's CSRF token in `X-CSRF-Token` (synchronizer token). Sessions live in memory
 * (keyed by the id's digest) for `ttlMs` and end with the process: users log in again.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  constructor(private readonly ttlMs: number = 12 * 3_600_000, private readonly now: () => number = Date.now) {}

  create(role: AdminRole): { id: string; csrfToken: string; maxAgeSeconds: number } {
    this.#sweep();
    const id = randomBytes(32).toString("base64url");
    const csrfToken = randomBytes(24).toString("base64url");
    this.#sessions.set(hashCredential(id), { role, csrfToken, expiresAt: this.now() + this.ttlMs });
    return { id, csrfToken, maxAgeSeconds: Math.floor(this.ttlMs / 1000) };
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.#sessions.get(hashCredential(id));
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.#sessions.delete(hashCredential(id));
      return undefined;
    }
    return s;
  }

  delete(id: string | undefined): void {
    if (id) this.#sessions.delete(hashCredential(id));
  }

  static csrfMatches(session: Session, presented: string | undefined): boolean {
    if (!presented) return false;
    const a = Buffer.from(session.csrfToken);
    const b = Buffer.from(presented);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  #sweep(): void {
    const now = this.now();
    for (const [k, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(k);
  }
}

/** Reads one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return v.join("=");
  }
  return undefined;
}
