import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ClientError } from "../../errors.js";
import { RateLimiter } from "../../security/rate-limiter.js";
import { SESSION_COOKIE, type SessionStore, readCookie } from "../../security/sessions.js";
import type { Services } from "../services.js";
import { Session, op } from "../api-schemas.js";

const isHttps = (req: FastifyRequest) => req.protocol === "https" || req.headers["x-forwarded-proto"] === "https";

function cookie(req: FastifyRequest, value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${isHttps(req) ? "; Secure" : ""}`;
}

/** Dashboard login / logout: POST, GET and DELETE /api/v1/session. */
export function sessionRoutes(app: FastifyInstance, s: Services, sessions: SessionStore, failedLogins: RateLimiter): void {

  app.post("/api/v1/session", {
    schema: op({
      id: "login", summary: "Log in to the dashboard: the admin (or read-only) token for an HttpOnly session cookie", tag: "Session", auth: "none", store: false,
      body: Type.Object({ token: Type.String({ maxLength: 512 }) }, { additionalProperties: false }), errors: [401, 429],
      ok: { status: 200, schema: Session, description: "Logged in; the cookie is set, changes need this csrfToken as X-CSRF-Token" },
    }),
  }, async (req, reply) => {
    const blocked = failedLogins.waitFor(req.ip);
    if (blocked > 0) throw new ClientError(429, "too_many_logins", `too many failed logins; retry in ${blocked} s`).retryAfter(blocked);
    const role = s.credentials.adminRole((req.body as { token: string }).token);
    if (!role) {
      failedLogins.take(req.ip, 1);
      throw new ClientError(401, "unauthorized", "this token is not valid");
    }
    const session = sessions.create(role);
    return reply.header("set-cookie", cookie(req, session.id, session.maxAgeSeconds)).send({ role, csrfToken: session.csrfToken });
  });

  // Who is logged in: `{"role": null}` when nobody (not an error: the dashboard asks on load).
  app.get("/api/v1/session", {
    schema: op({ id: "getSession", summary: "Who is logged in ({\"role\": null} when nobody)", tag: "Session", auth: "none", store: false, ok: { status: 200, schema: Session, description: "The session" } }),
  }, async (req) => {
    const session = sessions.get(readCookie(req.headers.cookie, SESSION_COOKIE));
    return session ? { role: session.role, csrfToken: session.csrfToken } : { role: null };
  });

  app.delete("/api/v1/session", {
    schema: op({ id: "logout", summary: "Log out", tag: "Session", auth: "none", store: false, ok: { status: 204, schema: null, description: "Logged out" } }),
  }, async (req, reply) => {
    sessions.delete(readCookie(req.headers.cookie, SESSION_COOKIE));
    return reply.header("set-cookie", cookie(req, "", 0)).code(204).send();
  });
}
