import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { eventTypesByGroup } from "../../catalog/catalog.js";
import { describePartners } from "../../partners/registry.js";
import type { Services } from "../services.js";

/** Catalog, partners and ingest keys. */
export function adminMiscRoutes(app: FastifyInstance, s: Services): void {
  app.get("/api/v1/event-types", async () => eventTypesByGroup());
  app.get("/api/v1/partners", async () => ({ partners: describePartners() }));
  // The wizard's "Check connection": the connection check with settings not yet saved.
  app.post("/api/v1/partners/:id/check", {
    schema: {
      params: Type.Object({ id: Type.String({ maxLength: 50 }) }),
      body: Type.Object({ settings: Type.Record(Type.String(), Type.Union([Type.String(), Type.Boolean(), Type.Null()])) }, { additionalProperties: false }),
    },
  }, async (req) => {
    const result = await s.currents.checkConnection((req.params as { id: string }).id, (req.body as { settings: Record<string, unknown> }).settings);
    return result.kind === "answered"
      ? { ok: result.status >= 200 && result.status < 300, status: result.status, latencyMs: result.latencyMs }
      : { ok: false, status: null, latencyMs: result.latencyMs, error: result.error };
  });

  // Server mode at a glance: the live processes and which one delivers each Current.
  app.get("/api/v1/cluster", async () => {
    const [members, leases] = await Promise.all([s.store.leases.live("member:"), s.store.leases.live("current:")]);
    return {
      store: s.store.kind,
      process: s.engine.ownership.owner,
      processes: members.map((m) => ({ id: m.owner, expiresAt: m.expiresAt })),
      currents: leases.map((l) => ({ currentId: l.name.slice("current:".length), process: l.owner, expiresAt: l.expiresAt })),
    };
  });

  app.get("/api/v1/workspaces", async () => ({ workspaces: await s.store.config.listWorkspaces() }));
  // Strict validation for a whole workspace: events missing a catalog-required field are refused.
  app.patch("/api/v1/workspaces/:id", {
    schema: { params: Type.Object({ id: Type.String({ maxLength: 63 }) }), body: Type.Object({ strict: Type.Boolean() }, { additionalProperties: false }) },
  }, async (req) => s.credentials.setWorkspaceStrict((req.params as { id: string }).id, (req.body as { strict: boolean }).strict));

  app.post("/api/v1/ingest-keys", {
    schema: { body: Type.Object({ workspace: Type.Optional(Type.String({ maxLength: 63 })), strict: Type.Optional(Type.Boolean()) }, { additionalProperties: false }) },
  }, async (req, reply) => {
    const { workspace, strict } = (req.body ?? {}) as { workspace?: string; strict?: boolean };
    return reply.code(201).send(await s.credentials.createIngestKey(workspace ?? "default", strict ?? false));
  });
  app.get("/api/v1/ingest-keys", { schema: { querystring: Type.Object({ workspace: Type.Optional(Type.String({ maxLength: 63 })) }) } }, async (req) => ({
    ingestKeys: await s.credentials.listIngestKeys((req.query as { workspace?: string }).workspace),
  }));
  app.delete("/api/v1/ingest-keys/:id", { schema: { params: Type.Object({ id: Type.String({ maxLength: 64 }) }) } }, async (req, reply) => {
    await s.credentials.revokeIngestKey((req.params as { id: string }).id);
    return reply.code(204).send();
  });
}
