import type { FastifyInstance } from "fastify";
import { ClientError } from "../../errors.js";
import { MAX_REQUEST_BYTES, ingestEvents } from "../../ingest/ingest-events.js";
import { bearerToken } from "../../security/credentials.js";
import { RateLimiter } from "../../security/rate-limiter.js";
import type { Services } from "../services.js";
import { gunzipBody } from "../gunzip-body.js";

/** `POST /v1/events` (SPEC section 4). */
export function ingestRoutes(app: FastifyInstance, s: Services): void {
  const limiter = new RateLimiter(s.config.ingestRateLimit, s.config.ingestRateLimit * 2, s.now);
  app.post("/v1/events", {
    bodyLimit: MAX_REQUEST_BYTES,
    preParsing: async (request, _reply, payload) => {
      const type = String(request.headers["content-type"] ?? "");
      if (!/^application\/json\s*(;|$)/i.test(type)) {
        throw new ClientError(415, "unsupported_media_type", `Content-Type must be application/json, got "${type.slice(0, 100)}"`);
      }
      const encoding = String(request.headers["content-encoding"] ?? "identity").toLowerCase();
      if (encoding === "gzip") {
        delete request.headers["content-length"];
        return gunzipBody(payload, MAX_REQUEST_BYTES);
      }
      if (encoding !== "identity") throw new ClientError(415, "unsupported_encoding", `Content-Encoding ${encoding} is not supported; use gzip or none`);
      return payload;
    },
    onRequest: async (request) => {
      const key = s.credentials.ingestKey(bearerToken(request.headers.authorization));
      if (!key) throw new ClientError(401, "unauthorized", "a valid ingest key is required (Authorization: Bearer <ingest key>)");
      (request as { ingestKey?: typeof key }).ingestKey = key;
      const backlog = await s.store.events.size();
      if (backlog >= s.config.maxBacklogEvents) {
        throw Object.assign(new ClientError(429, "backlog_full", `the backlog holds ${backlog} events, over its limit of ${s.config.maxBacklogEvents}; retry later`), { retryAfterSeconds: 5 });
      }
    },
  }, async (request) => {
    const { workspace, id: keyId } = (request as { ingestKey?: { workspace: string; id: string } }).ingestKey as { workspace: string; id: string };
    const events = (request.body as { events?: unknown } | null)?.events;
    const cost = Array.isArray(events) ? Math.max(1, events.length) : 1;
    const wait = limiter.take(keyId, cost);
    if (wait > 0) {
      throw Object.assign(new ClientError(429, "rate_limited", `this ingest key is over its rate limit of ${s.config.ingestRateLimit} events/s; retry in ${wait} s`), { retryAfterSeconds: wait });
    }
    const result = await ingestEvents(s.store, workspace, request.body, s.now(), (request as { rawJson?: string }).rawJson);
    if (result.accepted > 0) s.engine.notifyAppended(workspace);
    s.metrics.onIngest(result);
    return result;
  });
}
