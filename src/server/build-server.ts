import { alertRoutes } from "./routes/alerts.js";
import { eventSearchRoutes } from "./routes/event-search.js";
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
import { Type } from "@sinclair/typebox";
import { Audit, ErrorBody, TAGS, op } from "./api-schemas.js";
import { ClientError } from "../errors.js";
import { MAX_EVENT_DEPTH } from "../ingest/ingest-events.js";
import { scanBody } from "../ingest/scan-body.js";
import { bearerToken } from "../security/credentials.js";
import { SESSION_COOKIE, SessionStore, readCookie } from "../security/sessions.js";
import { sessionRoutes } from "./routes/session.js";
import { RateLimiter } from "../security/rate-limiter.js";
import { adminMiscRoutes } from "./routes/admin-misc.js";
import { sourceRoutes, sourceWebhookRoutes } from "./routes/sources.js";
import { cohortImportRoutes, cohortRoutes } from "./routes/cohorts.js";
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

  // Answers are sent as the services build them: response schemas document them (OpenAPI),
  // they do not filter them (a test checks every answer against its documented schema).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.addSchema(ErrorBody);

  // The OpenAPI document, generated from the same schemas that validate requests.
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Currents API",
        version: VERSION,
        description: "Streams customer-engagement events to analytics partners, durably and at least once. " +
          "Send events to `POST /v1/events` with an ingest key; manage Currents (export connections) through `/api/v1` with the admin token " +
          "(or a dashboard session). Every error answer is `{\"error\": {\"code\", \"message\", \"field\"?}}`.",
        license: { name: "Apache-2.0", identifier: "Apache-2.0" },
      },
      servers: [{ url: "/", description: "This Currents service" }],
      tags: [...TAGS],
      components: {
        securitySchemes: {
          ingestKey: { type: "http", scheme: "bearer", description: "An ingest key (POST /api/v1/ingest-keys); sends events to its workspace" },
          adminToken: { type: "http", scheme: "bearer", description: "The admin token (or the read-only token, for GET requests)" },
          session: { type: "apiKey", in: "cookie", name: SESSION_COOKIE, description: "A dashboard session (POST /api/v1/session); changes also need the X-CSRF-Token header" },
        },
      },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  // The page's own styles and scripts are files (no inline style or script), under a strict policy.
  // Swagger UI sets style attributes from its scripts and inserts one fixed <style> element:
  // style attributes are allowed (they run no code), that one element by its hash, scripts only
  // from files; no framing, no other origin. (A swagger-ui upgrade that changes the element
  // shows in the browser test as a CSP console error.)
  await app.register(fastifySwaggerUi, {
    routePrefix: "/api/docs",
    uiConfig: { deepLinking: false },
    staticCSP: "default-src 'self'; base-uri 'none'; font-src 'self' data:; frame-ancestors 'none'; img-src 'self' data:; object-src 'none'; " +
      "script-src 'self'; script-src-attr 'none'; style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; " +
      "style-src-attr 'unsafe-inline'; connect-src 'self'; form-action 'self'",
  });

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

  app.get("/healthz", { schema: op({ id: "health", summary: "The process is up", tag: "Operations", auth: "none", store: false, ok: { status: 200, schema: Type.Object({ status: Type.Literal("ok") }), description: "Up" } }) },
    async () => ({ status: "ok" }));
  const Ready = Type.Object({ status: Type.String(), store: Type.String() });
  const readySchema = op({ id: "ready", summary: "The store answers and takes writes", tag: "Operations", auth: "none", store: false, ok: { status: 200, schema: Ready, description: "Ready" } });
  (readySchema.response as Record<number, unknown>)[503] = { ...Ready, description: "Not ready: the store is unreachable, full, or its writer is restarting" };
  app.get("/readyz", { schema: readySchema }, async (_req, reply) => {
    const ok = await s.store.ping();
    return reply.code(ok ? 200 : 503).send({ status: ok ? "ready" : "store unreachable", store: s.store.kind });
  });

  const metricsSchema = op({ id: "metrics", summary: "Prometheus metrics (text exposition format)", tag: "Operations", auth: "none", store: false, ok: { status: 200, schema: Type.String(), description: "The metrics" } });
  metricsSchema.response = { 200: { description: "The metrics, in Prometheus' text format", content: { "text/plain": { schema: { type: "string" } } } } };
  app.get("/metrics", { schema: metricsSchema }, async (_req, reply) => {
    const body = await s.metrics.registry.metrics();
    return reply.header("content-type", s.metrics.registry.contentType).send(body);
  });

  // The dashboard (built by `npm install` into web/dist), served at /.
  const webRoot = fileURLToPath(new URL("../../web/dist/", import.meta.url));
  if (existsSync(webRoot)) void app.register(fastifyStatic, { root: webRoot, prefix: "/", index: ["index.html"] });

  ingestRoutes(app, s);
  sourceWebhookRoutes(app, s);
  cohortImportRoutes(app, s);
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
    admin.get("/api/v1/audit", {
      schema: op({
        id: "listAudit", summary: "The audit log: who changed what, newest first", tag: "Operations", auth: "admin",
        querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,4}$" })), before: Type.Optional(Type.String({ pattern: "^[0-9]{1,15}$" })) }),
        ok: { status: 200, schema: Audit, description: "Audit entries" },
      }),
    }, async (request) => {
      const q = request.query as { limit?: string; before?: string };
      const limit = Math.min(Math.max(Number(q.limit) || 100, 1), 1000);
      const entries = await s.store.config.listAudit(limit, q.before ? Number(q.before) || undefined : undefined);
      return { audit: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
    });
    currentRoutes(admin, s);
    currentActionRoutes(admin, s);
    adminMiscRoutes(admin, s);
    sourceRoutes(admin, s);
    cohortRoutes(admin, s);
    eventSearchRoutes(admin, s);
    alertRoutes(admin, s);
  });

  return app;
}
