import type { AttemptResult } from "../../delivery/attempt-outcome.js";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { eventTypesByGroup } from "../../catalog/catalog.js";
import { describePartners } from "../../partners/registry.js";
import type { Services } from "../services.js";
import { CheckAnswer, Cluster, EventTypes, IngestKey, Partners, SettingsInput, op } from "../api-schemas.js";

/** Catalog, partners and ingest keys. */
const answerOf = (result: AttemptResult) => (result.kind === "answered"
  ? { ok: result.status >= 200 && result.status < 300, status: result.status, latencyMs: result.latencyMs }
  : { ok: false, status: null, latencyMs: result.latencyMs, error: result.error });

export function adminMiscRoutes(app: FastifyInstance, s: Services): void {
  app.get("/api/v1/event-types", {
    schema: op({ id: "listEventTypes", summary: "The event dictionary: types in three groups, with fields and an example", tag: "Catalog and partners", auth: "admin", store: false, ok: { status: 200, schema: EventTypes, description: "The catalog" } }),
  }, async () => eventTypesByGroup());
  app.get("/api/v1/partners", {
    schema: op({ id: "listPartners", summary: "Partner types and the settings each needs", tag: "Catalog and partners", auth: "admin", store: false, ok: { status: 200, schema: Partners, description: "The partners" } }),
  }, async () => ({ partners: describePartners() }));
  // The wizard's "Check connection": the connection check with settings not yet saved.
  app.post("/api/v1/partners/:id/check", {
    schema: op({
      id: "checkConnection", summary: "Connection check of settings not saved yet (an empty batch with the credentials)", tag: "Catalog and partners", auth: "admin",
      params: Type.Object({ id: Type.String({ maxLength: 50 }) }),
      body: Type.Object({ settings: SettingsInput }, { additionalProperties: false }),
      errors: [403], store: false, ok: { status: 200, schema: CheckAnswer, description: "What the partner answered" },
    }),
  }, async (req) => answerOf(await s.currents.checkConnection((req.params as { id: string }).id, (req.body as { settings: Record<string, unknown> }).settings)));
  // Edit's "Check connection": a Current's settings as being edited, its stored secrets where they are left masked.
  app.post("/api/v1/currents/:id/check", {
    schema: op({
      id: "checkCurrentConnection", summary: "Connection check of a Current, with settings being edited (masked secrets: the stored ones)", tag: "Currents", auth: "admin",
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      body: Type.Object({ settings: Type.Optional(SettingsInput) }, { additionalProperties: false }),
      errors: [403, 404], ok: { status: 200, schema: CheckAnswer, description: "What the partner answered" },
    }),
  }, async (req) => answerOf(await s.currents.checkCurrentConnection((req.params as { id: string }).id, (req.body as { settings?: Record<string, unknown> }).settings)));

  // Server mode at a glance: the live processes and which one delivers each Current.
  app.get("/api/v1/cluster", {
    schema: op({ id: "getCluster", summary: "The live processes and which one delivers each Current", tag: "Operations", auth: "admin", ok: { status: 200, schema: Cluster, description: "The cluster" } }),
  }, async () => {
    const [members, leases] = await Promise.all([s.store.leases.live("member:"), s.store.leases.live("current:")]);
    return {
      store: s.store.kind,
      process: s.engine.ownership.owner,
      processes: members.map((m) => ({ id: m.owner, expiresAt: m.expiresAt })),
      currents: leases.map((l) => {
        const unit = l.name.slice("current:".length);
        const at = unit.lastIndexOf("@");
        return at < 0
          ? { currentId: unit, process: l.owner, expiresAt: l.expiresAt }
          : { currentId: unit.slice(0, at), partition: Number(unit.slice(at + 1)), process: l.owner, expiresAt: l.expiresAt };
      }),
      ...(s.store.partitions ? { partitions: s.store.partitions } : {}),
    };
  });

  app.get("/api/v1/workspaces", {
    schema: op({ id: "listWorkspaces", summary: "The workspaces", tag: "Keys and workspaces", auth: "admin", ok: { status: 200, schema: Type.Object({ workspaces: Type.Array(Type.String()) }), description: "Their ids" } }),
  }, async () => ({ workspaces: await s.store.config.listWorkspaces() }));
  // Strict validation for a whole workspace: events missing a catalog-required field are refused.
  app.patch("/api/v1/workspaces/:id", {
    schema: op({
      id: "updateWorkspace", summary: "Strict validation for a whole workspace", tag: "Keys and workspaces", auth: "admin",
      params: Type.Object({ id: Type.String({ maxLength: 63 }) }), body: Type.Object({ strict: Type.Boolean() }, { additionalProperties: false }), errors: [403, 404],
      ok: { status: 200, schema: Type.Object({ id: Type.String(), strict: Type.Boolean() }), description: "The workspace's setting" },
    }),
  }, async (req) => s.credentials.setWorkspaceStrict((req.params as { id: string }).id, (req.body as { strict: boolean }).strict));

  app.post("/api/v1/ingest-keys", {
    schema: op({
      id: "createIngestKey", summary: "A new ingest key (shown once)", tag: "Keys and workspaces", auth: "admin",
      body: Type.Object({ workspace: Type.Optional(Type.String({ maxLength: 63 })), strict: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      errors: [403], ok: { status: 201, schema: IngestKey, description: "The key, in full this once" },
    }),
  }, async (req, reply) => {
    const { workspace, strict } = (req.body ?? {}) as { workspace?: string; strict?: boolean };
    return reply.code(201).send(await s.credentials.createIngestKey(workspace ?? "default", strict ?? false));
  });
  app.get("/api/v1/ingest-keys", {
    schema: op({
      id: "listIngestKeys", summary: "Ingest keys (masked)", tag: "Keys and workspaces", auth: "admin",
      querystring: Type.Object({ workspace: Type.Optional(Type.String({ maxLength: 63 })) }), ok: { status: 200, schema: Type.Object({ ingestKeys: Type.Array(IngestKey) }), description: "The keys" },
    }),
  }, async (req) => ({
    ingestKeys: await s.credentials.listIngestKeys((req.query as { workspace?: string }).workspace),
  }));
  app.delete("/api/v1/ingest-keys/:id", {
    schema: op({ id: "revokeIngestKey", summary: "Revoke an ingest key", tag: "Keys and workspaces", auth: "admin", params: Type.Object({ id: Type.String({ maxLength: 64 }) }), errors: [403, 404, 409], ok: { status: 204, schema: null, description: "Revoked" } }),
  }, async (req, reply) => {
    await s.credentials.revokeIngestKey((req.params as { id: string }).id);
    return reply.code(204).send();
  });
}
