import { existsSync } from "node:fs";
import http from "node:http";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import { VERSION } from "../version.js";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import secureJson from "secure-json-parse";
import { storeFailureKind } from "../store/port.js";
import { ClientError } from "../errors.js";
import type { Logger } from "pino";
import { runWithRequestLogger } from "./request-context.js";
import { MAX_EVENT_DEPTH } from "../ingest/ingest-events.js";
import { scanBody } from "../ingest/scan-body.js";
import { bearerToken } from "../security/credentials.js";
import { SESSION_COOKIE, SessionStore, readCookie } from "../security/sessions.js";
import { sessionRoutes } from "./routes/session.js";
import { RateLimiter } from "../security/rate-limiter.js";
import { adminMiscRoutes } from "./routes/admin-misc.js";
import { currentActionRoutes } from "./routes/current-actions.js";
import { currentRoutes } from "./routes/currents.js";
import { ingestRoutes } from "./routes/ingest.js";
import type { Services } from "./services.js";

/**
 * The HTTP server: ingest (`/v1/events`), the admin API (`/api/v1/...`, admin token) and
 * health. Every client mistake is a 4xx naming what is wrong; a 5xx means a fault of ours.
 */
export async function buildServer(s: Services): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: s.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
    // Slow or stuck clients: a silent connection is closed after clientTimeoutMs, headers must
    // arrive within it and a whole request within twice it (checked every second).
    connectionTimeout: s.config.clientTimeoutMs,
    serverFactory: (handler) => http.createServer({
      requestTimeout: s.config.clientTimeoutMs * 2,
      headersTimeout: s.config.clientTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, s.config.clientTimeoutMs),
      keepAliveTimeout: 72_000,
    }, handler),
    return503OnClosing: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // A sane incoming X-Request-Id (a proxy's, a client's) is kept, so logs line up across systems.
    genReqId: (req) => {
      const incoming = req.headers["x-request-id"];
      return typeof incoming === "string" && /^[\w.:@/+=-]{1,128}$/.test(incoming) ? incoming : crypto.randomUUID();
    },
  });

  // The OpenAPI document, generated from the same schemas that validate requests.
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "Currents API", version: VERSION, description: "Ingest (`/v1/events`, ingest key) and admin API (`/api/v1`, admin token). See SPEC sections 4 and 6." },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/api/docs", staticCSP: true });

  // Strict JSON: malformed bodies, prototype-pollution keys and bodies nested deeper than any
  // admin input needs are 400s that say what is wrong (ingest has its own parser, see ingest.ts).
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    if (body === "") return done(new ClientError(400, "empty_body", "the body is empty; expected JSON"), undefined);
    if (scanBody(body as string).maxDepth > MAX_EVENT_DEPTH) {
      return done(new ClientError(400, "too_deep", `the body is nested deeper than ${MAX_EVENT_DEPTH} levels`), undefined);
    }
    try {
      const parsed: unknown = secureJson.parse(body as string, undefined, { protoAction: "error", constructorAction: "error" });
      done(null, parsed);
    } catch (error) {
      const message = (error as Error).message;
      const why = /prototype/i.test(message) ? "it contains a forbidden __proto__ or constructor.prototype key" : message;
      done(new ClientError(400, "malformed_json", `the body is not valid JSON: ${why}`), undefined);
    }
  });

  app.setErrorHandler((error: FastifyError | ClientError, request, reply) => {
    if (error instanceof ClientError) {
      if (error.retryAfterSeconds !== undefined) void reply.header("retry-after", String(error.retryAfterSeconds));
      return reply.code(error.statusCode).send({ ...error.answer, error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) } });
    }
    const fe = error as FastifyError;
    if (fe.validation) {
      const v = fe.validation[0];
      const where = `${fe.validationContext ?? "body"}${v?.instancePath ? v.instancePath.replaceAll("/", ".") : ""}`;
      const field = v?.keyword === "required" ? `${where}.${String(v.params.missingProperty)}` : v?.keyword === "additionalProperties" ? `${where}.${String(v.params.additionalProperty)}` : where;
      const message = v?.keyword === "additionalProperties" ? "is not a known field" : v?.keyword === "required" ? "is required" : (v?.message ?? "is invalid");
      return reply.code(400).send({ error: { code: "invalid_input", message: `${field}: ${message}`, field } });
    }
    if (typeof fe.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
      const message = fe.code === "FST_ERR_CTP_BODY_TOO_LARGE" ? "the request body is too large" : fe.message;
      return reply.code(fe.statusCode).send({ error: { code: fe.code ?? "bad_request", message } });
    }
    const failure = storeFailureKind(error);
    if (failure === "full") {
      request.log.warn({ err: { message: error.message } }, "store full");
      return reply.code(507).header("retry-after", "30").send({ error: { code: "insufficient_storage", message: "the store's disk is full; this request was not acknowledged; retry later (events already stored are recognised by their id)" } });
    }
    if (failure === "unavailable") {
      request.log.warn({ err: { message: error.message } }, "store unavailable");
      return reply.code(503).header("retry-after", "5").send({ error: { code: "unavailable", message: "the store is unavailable; this request was not acknowledged; retry (events already stored are recognised by their id)" } });
    }
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send({ error: { code: "internal", message: "internal error" } });
  });

  // Everything a request causes logs with its request id, also in services it calls.
  app.addHook("onRequest", (request, _reply, done) => runWithRequestLogger(request.log as unknown as Logger, done));
  // Every answer carries its request id, and is logged (debug) with it; errors are logged with it too.
  const guarded = new WeakSet<object>();
  app.addHook("onRequest", async (request, reply) => {
    void reply.header("x-request-id", String(request.id));
    // A client silent for clientTimeoutMs (e.g. stalled in the middle of its body) is cut off.
    const socket = request.raw.socket;
    if (!guarded.has(socket)) {
      guarded.add(socket);
      socket.setTimeout(s.config.clientTimeoutMs);
      socket.on("timeout", () => socket.destroy());
    }
  });
  app.addHook("onResponse", async (request, reply) => {
    s.metrics.onHttp(request.routeOptions.url ?? "unmatched", request.method, reply.statusCode, reply.elapsedTime / 1000);
    request.log.debug({ method: request.method, url: request.url.split("?")[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, "request");
  });

  // Security headers on every answer (the dashboard's pages included).
  app.addHook("onSend", async (_request, reply, payload) => {
    if (!reply.hasHeader("content-security-policy")) {
      // (the API docs page sets its own, stricter, hash-based policy)
      void reply.header("content-security-policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    }
    void reply.headers({
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-resource-policy": "same-origin",
    });
    return payload;
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: "not_found", message: `no route ${request.method} ${request.url.split("?")[0]}` } });
  });

  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_req, reply) => {
    const ok = await s.store.ping();
    return reply.code(ok ? 200 : 503).send({ status: ok ? "ready" : "store unreachable", store: s.store.kind });
  });

  app.get("/metrics", async (_req, reply) => {
    const body = await s.metrics.registry.metrics();
    return reply.header("content-type", s.metrics.registry.contentType).send(body);
  });

  // The dashboard (built by `npm install` into web/dist), served at /.
  const webRoot = fileURLToPath(new URL("../../web/dist/", import.meta.url));
  if (existsSync(webRoot)) void app.register(fastifyStatic, { root: webRoot, prefix: "/", index: ["index.html"] });

  ingestRoutes(app, s);
  const sessions = new SessionStore(undefined, s.now);
  // Failed admin authentications, by the login form or the Authorization header: 10, then one every 6 s, per address.
  const failedAuth = new RateLimiter(10 / 60, 10, s.now);
  sessionRoutes(app, s, sessions, failedAuth);

  void app.register(async (admin) => {
    admin.addHook("onRequest", async (request) => {
      const bearer = bearerToken(request.headers.authorization);
      if (bearer) {
        // While an address is over its failed tries, no token is even looked at.
        const blocked = failedAuth.waitFor(request.ip);
        if (blocked > 0) throw new ClientError(429, "too_many_failures", `too many failed authentications from this address; retry in ${blocked} s`).retryAfter(blocked);
      }
      let role = s.credentials.adminRole(bearer);
      if (bearer && !role) failedAuth.take(request.ip, 1);
      const mutating = request.method !== "GET" && request.method !== "HEAD";
      if (!role && !bearer) {
        // Dashboard session: HttpOnly cookie, plus the CSRF token for any change.
        const session = sessions.get(readCookie(request.headers.cookie, SESSION_COOKIE));
        if (session && mutating && !SessionStore.csrfMatches(session, request.headers["x-csrf-token"] as string | undefined)) {
          throw new ClientError(403, "csrf", "missing or wrong X-CSRF-Token for this session");
        }
        role = session?.role;
      }
      if (!role) throw new ClientError(401, "unauthorized", "a valid admin token is required (Authorization: Bearer <admin token>)");
      if (role === "readonly" && mutating) {
        throw new ClientError(403, "read_only", "this token is read-only: it can look, not change");
      }
    });
    // Audit log: every admin change (not reads), who, what, which object, when, how it ended.
    admin.addHook("onResponse", async (request, reply) => {
      if (request.method === "GET" || request.method === "HEAD" || reply.statusCode === 401) return;
      const params = request.params as { id?: string } | undefined;
      await s.store.config.addAudit({
        at: s.now(), actor: "admin", action: `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]}`,
        target: params?.id ?? null, status: reply.statusCode, ip: request.ip, requestId: String(request.id),
      }).catch((err: unknown) => request.log.error({ err }, "could not write the audit log"));
    });
    admin.get("/api/v1/audit", async (request) => {
      const q = request.query as { limit?: string; before?: string };
      const limit = Math.min(Math.max(Number(q.limit) || 100, 1), 1000);
      const entries = await s.store.config.listAudit(limit, q.before ? Number(q.before) || undefined : undefined);
      return { audit: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
    });
    currentRoutes(admin, s);
    currentActionRoutes(admin, s);
    adminMiscRoutes(admin, s);
  });

  return app;
}
