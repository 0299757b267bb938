import type { FastifyInstance } from "fastify";
import { ClientError } from "../../errors.js";
import { type IngestResult, MAX_REQUEST_BYTES, ingestEvents, parseIngestBody } from "../../ingest/ingest-events.js";
import { type IngestIdentity } from "../../security/credential-service.js";
import { bearerToken } from "../../security/credentials.js";
import { RateLimiter } from "../../security/rate-limiter.js";
import { boundedBody } from "../bounded-body.js";
import type { Services } from "../services.js";
import { Type } from "@sinclair/typebox";
import { IngestAnswer, IngestBody, op } from "../api-schemas.js";

/** A body over the limit is still read (and dropped) up to this size, so the 413 reaches the client. */
export const DRAIN_BYTES = 64 * 1024 * 1024;
/** A request costs its events, or one per this many bytes of body when that is more. */
const BYTES_PER_EVENT_OF_RATE = 4096;

declare module "fastify" {
  interface FastifyRequest {
    ingestKey?: IngestIdentity;
  }
}

/** `POST /v1/events` (SPEC section 4). */
export function ingestRoutes(app: FastifyInstance, s: Services): void {
  const limiter = new RateLimiter(s.config.ingestRateLimit, s.config.ingestRateLimit * 2, s.now);
  void app.register(async (scope) => {
    // The body reaches the handler as text: it is measured before anything parses it.
    scope.removeContentTypeParser("application/json");
    // The body schema documents the request; ingest validates it itself (after measuring it), so no framework validation.
    scope.setValidatorCompiler(() => () => true);
    scope.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => done(null, body));
    scope.post("/v1/events", {
      bodyLimit: DRAIN_BYTES,
      schema: {
        ...op({
          id: "ingestEvents", summary: "Send events (durable before the answer)", tag: "Ingest", auth: "ingest", body: IngestBody, errors: [413, 415, 429],
          ok: { status: 200, schema: IngestAnswer, description: "Stored (fsync'd or committed); each event accepted, a duplicate, or rejected with its reason" },
        }),
        headers: Type.Object({ "content-encoding": Type.Optional(Type.Union([Type.Literal("gzip"), Type.Literal("identity")], { description: "gzip: the body is compressed (5 MB limit on the uncompressed size)" })) }),
      },
      onRequest: async (request) => {
        const key = s.credentials.ingestKey(bearerToken(request.headers.authorization));
        if (!key) throw new ClientError(401, "unauthorized", "a valid ingest key is required (Authorization: Bearer <ingest key>)");
        request.ingestKey = key;
        await s.ingestGuard.check(key.workspace);
      },
      preParsing: async (request, _reply, payload) => {
        const type = String(request.headers["content-type"] ?? "");
        if (!/^application\/json\s*(;|$)/i.test(type)) {
          throw new ClientError(415, "unsupported_media_type", `Content-Type must be application/json, got "${type.slice(0, 100)}"`);
        }
        const encoding = String(request.headers["content-encoding"] ?? "identity").toLowerCase();
        if (encoding !== "identity" && encoding !== "gzip") throw new ClientError(415, "unsupported_encoding", `Content-Encoding ${encoding} is not supported; use gzip or none`);
        const declared = Number(request.headers["content-length"]);
        if (declared > DRAIN_BYTES) throw new ClientError(413, "body_too_large", `the body is ${declared} bytes; at most ${MAX_REQUEST_BYTES} bytes (5 MB) are accepted`);
        // Our own limits from here on (the framework would compare the length with what it reads).
        delete request.headers["content-length"];
        return boundedBody(payload, { maxBytes: MAX_REQUEST_BYTES, drainBytes: DRAIN_BYTES, gzip: encoding === "gzip" });
      },
    }, async (request) => {
      const key = request.ingestKey as IngestIdentity;
      const text = typeof request.body === "string" ? request.body : "";
      // The rate limit is charged once the body is measured, before it is parsed.
      const body = parseIngestBody(text, (events) => {
        const wait = limiter.take(key.id, Math.max(1, events ?? 0, Math.ceil(text.length / BYTES_PER_EVENT_OF_RATE)));
        if (wait > 0) {
          throw new ClientError(429, "rate_limited", `this ingest key is over its rate limit of ${s.config.ingestRateLimit} events/s; retry in ${wait} s`).retryAfter(wait);
        }
      });
      const result = await ingestEvents(s.store, key.workspace, body, s.now(), { strict: key.strict }).catch((error: unknown) => {
        if (error instanceof ClientError && error.answer) s.metrics.onIngest(error.answer as unknown as IngestResult);
        throw error;
      });
      if (result.accepted > 0) s.engine.notifyAppended(key.workspace);
      s.metrics.onIngest(result);
      return result;
    });
  });
}
