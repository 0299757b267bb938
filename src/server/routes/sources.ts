import { Type } from "@sinclair/typebox";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ClientError } from "../../errors.js";
import { sourceKinds } from "../../sources/registry.js";
import type { SourceInput } from "../../sources/source-service.js";
import { SettingsInput, SourceView, WebhookAnswer, op } from "../api-schemas.js";
import type { Services } from "../services.js";

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
/** Providers batch at most this much (SendGrid: 768 KB; SNS: 256 KB). */
export const MAX_WEBHOOK_BYTES = 2 * 1024 * 1024;

const origin = (req: FastifyRequest) => `${req.protocol}://${req.headers.host ?? "127.0.0.1"}`;

/** The admin API of sources (SPEC section 12). */
export function sourceRoutes(admin: FastifyInstance, s: Services): void {
  const body = Type.Object({
    kind: Type.Optional(Type.String({ maxLength: 50 })), name: Type.Optional(Type.String({ maxLength: 200 })), workspace: Type.Optional(Type.String({ maxLength: 63 })),
    settings: Type.Optional(SettingsInput),
  }, { additionalProperties: false });
  admin.get("/api/v1/source-kinds", {
    schema: op({ id: "listSourceKinds", summary: "The providers a source can take, and the settings each needs", tag: "Sources", auth: "admin", store: false,
      ok: { status: 200, schema: Type.Object({ kinds: Type.Array(Type.Object({ id: Type.String(), title: Type.String() }, { additionalProperties: true })) }), description: "The kinds" } }),
  }, async () => ({ kinds: Object.values(sourceKinds).map((k) => ({ id: k.id, title: k.title, settings: k.settings, setup: k.setup("<webhook URL>") })) }));
  admin.get("/api/v1/sources", {
    schema: op({ id: "listSources", summary: "The sources", tag: "Sources", auth: "admin", ok: { status: 200, schema: Type.Object({ sources: Type.Array(SourceView) }), description: "Every source" } }),
  }, async (req) => ({ sources: await Promise.all((await s.store.sources.list()).map((x) => s.sources.view(x, origin(req)))) }));
  admin.post("/api/v1/sources", {
    schema: op({ id: "createSource", summary: "A new source: its webhook URL and the provider's setup", tag: "Sources", auth: "admin", body, errors: [403], ok: { status: 201, schema: SourceView, description: "Created" } }),
  }, async (req, reply) => reply.code(201).send(await s.sources.view(await s.sources.create(req.body as SourceInput, req.log as unknown as import("pino").Logger), origin(req))));
  admin.get("/api/v1/sources/:id", {
    schema: op({ id: "getSource", summary: "A source, its stats and its last unmapped provider events", tag: "Sources", auth: "admin", params: IdParams, errors: [404], ok: { status: 200, schema: SourceView, description: "The source" } }),
  }, async (req) => s.sources.view(await s.sources.record((req.params as { id: string }).id), origin(req)));
  admin.patch("/api/v1/sources/:id", {
    schema: op({ id: "updateSource", summary: "Rename a source or change its settings (secrets kept when sent back masked)", tag: "Sources", auth: "admin", params: IdParams, body, errors: [403, 404], ok: { status: 200, schema: SourceView, description: "Updated" } }),
  }, async (req) => s.sources.view(await s.sources.update((req.params as { id: string }).id, req.body as SourceInput), origin(req)));
  admin.delete("/api/v1/sources/:id", {
    schema: op({ id: "deleteSource", summary: "Delete a source (its webhook URL answers 404 from now on)", tag: "Sources", auth: "admin", params: IdParams, errors: [403, 404], ok: { status: 204, schema: null, description: "Deleted" } }),
  }, async (req, reply) => {
    await s.sources.delete((req.params as { id: string }).id);
    return reply.code(204).send();
  });
}

/** `POST /v1/sources/{id}`: a provider's webhook. Authenticated by the provider's signature, not by a key. */
export function sourceWebhookRoutes(app: FastifyInstance, s: Services): void {
  void app.register(async (scope) => {
    // Signatures cover the raw bytes, whatever the content type (JSON, form, SNS's text/plain).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: MAX_WEBHOOK_BYTES }, (_req, raw, done) => done(null, raw));
    scope.setValidatorCompiler(() => () => true);
    scope.post("/v1/sources/:id", {
      bodyLimit: MAX_WEBHOOK_BYTES,
      schema: op({
        id: "receiveSourceWebhook", summary: "A provider's webhook (SendGrid, Mailgun, Postmark, Twilio): verified, mapped, stored before the answer", tag: "Sources", auth: "none",
        params: IdParams, errors: [401, 403, 404, 406, 413, 503, 507], ok: { status: 200, schema: WebhookAnswer, description: "Stored (fsync'd or committed); unmapped provider events counted" },
      }),
    }, async (req, reply) => {
      const { id } = req.params as { id: string };
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const q = req.url.indexOf("?");
      const query = Object.fromEntries(new URLSearchParams(q < 0 ? "" : req.url.slice(q + 1)));
      const answer = await s.webhooks.receive(id, { raw, headers: req.headers, url: req.url, query, contentType: String(req.headers["content-type"] ?? "") });
      if (answer.status >= 400 && answer.status !== 406 && answer.status !== 401 && answer.status !== 403 && answer.status !== 400) {
        throw new ClientError(answer.status, "refused", String((answer.body.error as { message?: string } | undefined)?.message ?? "refused"));
      }
      if (answer.status === 200) {
        const workspace = (await s.store.sources.get(id))?.workspace;
        if (workspace && Number(answer.body.accepted) > 0) s.engine.notifyAppended(workspace);
      }
      return reply.code(answer.status).send(answer.body);
    });
  });
}
