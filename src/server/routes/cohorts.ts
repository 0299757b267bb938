import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { invalid } from "../../errors.js";
import type { CohortBody, MembershipBody } from "../../cohorts/import-request.js";
import { aliasOf } from "../../cohorts/import-request.js";
import type { CohortChange, CohortMember, CohortRecord, MemberKind } from "../../store/port.js";
import { Nullable, Time, op } from "../api-schemas.js";
import type { Services } from "../services.js";

const iso = (ms: number) => new Date(ms).toISOString();
/** A page size from the query string, within 1..max. */
function limitOf(raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (n < 1 || n > max) throw invalid("limit", `must be 1-${max.toLocaleString("en-US")}`);
  return n;
}
const PartnerParams = Type.Object({ partner: Type.String({ maxLength: 32 }) });
const Secrets = { partner_api_key: Type.Optional(Type.String({ maxLength: 256 })), client_secret: Type.String({ minLength: 1, maxLength: 256 }) };
const CohortIdInput = Type.Union([Type.String({ maxLength: 255 }), Type.Integer()]);
const Id = Type.String({ maxLength: 255 });

const CohortView = Type.Object({
  id: Type.String(), workspace: Type.String(), partner: Type.String(), cohortId: Type.String(), name: Type.String(), size: Type.Integer(),
  createdAt: Time, importedAt: Time, updatedAt: Time,
});
const ChangeView = Type.Object({ at: Time, requestId: Type.String(), joined: Type.Integer(), left: Type.Integer(), sizeAfter: Type.Integer(), name: Nullable(Type.String()) });
const MemberView = Type.Object({
  kind: Type.Union([Type.Literal("user"), Type.Literal("device"), Type.Literal("alias")]),
  id: Type.Optional(Type.String({ description: "The external user id or device id" })),
  alias: Type.Optional(Type.Object({ alias_name: Type.String(), alias_label: Type.String() })),
  since: Time,
});
const ImportKeyView = Type.Object({ id: Type.String(), workspace: Type.String(), key: Type.String({ description: "In full only when created; masked after" }), createdAt: Time });

const viewCohort = (c: CohortRecord) => ({
  id: c.id, workspace: c.workspace, partner: c.partner, cohortId: c.cohortId, name: c.name, size: c.size,
  createdAt: iso(c.createdAt), importedAt: iso(c.importedAt), updatedAt: iso(c.updatedAt),
});
const viewChange = (h: CohortChange) => ({ ...h, at: iso(h.at) });
const viewMember = (m: CohortMember & { since: number }) =>
  m.kind === "alias" ? { kind: m.kind, alias: aliasOf(m.key), since: iso(m.since) } : { kind: m.kind, id: m.key, since: iso(m.since) };

/**
 * The Partner Cohort Import API (SPEC section 15), compatible with the original's: Heap's
 * cohort sync posts here. Authenticated by the body's `client_secret` (a data import key).
 */
export function cohortImportRoutes(app: FastifyInstance, s: Services): void {
  app.post("/partners/:partner/cohorts", {
    schema: op({
      id: "importCohort", summary: "Create or rename a cohort (Heap's cohort sync: names first)", tag: "Cohorts", auth: "none", params: PartnerParams,
      body: Type.Object({ ...Secrets, cohort_id: CohortIdInput, name: Type.String({ maxLength: 255 }), created_at: Type.String({ maxLength: 64 }) }),
      errors: [401, 503], ok: { status: 201, schema: Type.Object({ message: Type.String(), cohort_id: Type.String(), name: Type.String() }), description: "Created or renamed" },
    }),
  }, async (req, reply) => {
    const c = await s.cohorts.importCohort((req.params as { partner: string }).partner, req.body as CohortBody);
    return reply.code(201).send({ message: "success", cohort_id: c.cohortId, name: c.name });
  });
  app.post("/partners/:partner/cohorts/users", {
    schema: op({
      id: "importCohortMembers", summary: "Add or remove a cohort's members: at most 1,000 ids a request (then deltas)", tag: "Cohorts", auth: "none", params: PartnerParams,
      body: Type.Object({
        ...Secrets, cohort_id: CohortIdInput,
        cohort_changes: Type.Array(Type.Object({
          user_ids: Type.Optional(Type.Array(Id)), device_ids: Type.Optional(Type.Array(Id)),
          aliases: Type.Optional(Type.Array(Type.Object({ alias_name: Id, alias_label: Id }))), should_remove: Type.Optional(Type.Boolean()),
        }), { minItems: 1, maxItems: 1_000 }),
      }),
      errors: [401, 423, 503], ok: { status: 201, schema: Type.Object({ message: Type.String(), joined: Type.Integer(), left: Type.Integer(), size: Type.Integer() }), description: "Applied (members already in, or already out, change nothing)" },
    }),
  }, async (req, reply) => {
    const r = await s.cohorts.importMembers((req.params as { partner: string }).partner, req.body as MembershipBody);
    return reply.code(201).send({ message: "success", joined: r.joined, left: r.left, size: r.cohort.size });
  });
}

/** Cohorts, members, a user's cohorts and data import keys, for the admin API and the dashboard. */
export function cohortRoutes(admin: FastifyInstance, s: Services): void {
  const IdParams = Type.Object({ id: Type.String({ maxLength: 255 }) });
  admin.get("/api/v1/cohorts", {
    schema: op({
      id: "listCohorts", summary: "Cohorts imported from partners, with their sizes", tag: "Cohorts", auth: "admin",
      querystring: Type.Object({ workspace: Type.Optional(Type.String({ maxLength: 63 })), search: Type.Optional(Type.String({ maxLength: 255 })), limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,3}$", description: "1-500 (100)" })), cursor: Type.Optional(Type.String({ maxLength: 255 })) }),
      ok: { status: 200, schema: Type.Object({ cohorts: Type.Array(CohortView), next: Nullable(Type.String()) }), description: "A page of cohorts" },
    }),
  }, async (req) => {
    const q = req.query as { workspace?: string; search?: string; limit?: string; cursor?: string };
    const limit = limitOf(q.limit, 100, 500);
    const cohorts = await s.cohorts.list({ workspace: q.workspace, search: q.search || undefined, limit, afterId: q.cursor });
    return { cohorts: cohorts.map(viewCohort), next: cohorts.length === limit ? (cohorts[cohorts.length - 1]?.id ?? null) : null };
  });
  admin.get("/api/v1/cohorts/:id", {
    schema: op({
      id: "getCohort", summary: "A cohort and its recent changes (size after each)", tag: "Cohorts", auth: "admin", params: IdParams, errors: [404],
      ok: { status: 200, schema: Type.Object({ ...CohortView.properties, history: Type.Array(ChangeView) }), description: "The cohort" },
    }),
  }, async (req) => {
    const c = await s.cohorts.get((req.params as { id: string }).id);
    return { ...viewCohort(c), history: c.history.map(viewChange) };
  });
  admin.get("/api/v1/cohorts/:id/members", {
    schema: op({
      id: "listCohortMembers", summary: "A cohort's members, by cursor", tag: "Cohorts", auth: "admin", params: IdParams, errors: [404],
      querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,5}$", description: "1-10,000 (1,000)" })), cursor: Type.Optional(Type.String({ maxLength: 2_000 })) }),
      ok: { status: 200, schema: Type.Object({ members: Type.Array(MemberView), next: Nullable(Type.String({ description: "Pass as cursor for the next page; null at the end" })) }), description: "A page of members" },
    }),
  }, async (req) => {
    const q = req.query as { limit?: string; cursor?: string };
    const page = await s.cohorts.members((req.params as { id: string }).id, limitOf(q.limit, 1_000, 10_000), q.cursor);
    return { members: page.members.map(viewMember), next: page.next };
  });
  admin.get("/api/v1/users/:id/cohorts", {
    schema: op({
      id: "getUserCohorts", summary: "Which cohorts a user is in (what a messaging system asks before a send)", tag: "Cohorts", auth: "admin", params: IdParams,
      querystring: Type.Object({
        workspace: Type.Optional(Type.String({ maxLength: 63 })),
        kind: Type.Optional(Type.Union([Type.Literal("user"), Type.Literal("device"), Type.Literal("alias")], { description: "What the id is: an external user id (default), a device id, or an alias name (with label)" })),
        label: Type.Optional(Type.String({ maxLength: 255, description: "The alias label, with kind=alias" })),
      }),
      ok: { status: 200, schema: Type.Object({ cohorts: Type.Array(Type.Object({ ...CohortView.properties, since: Time })) }), description: "The cohorts, with when the user joined" },
    }),
  }, async (req) => {
    const q = req.query as { workspace?: string; kind?: MemberKind; label?: string };
    const id = (req.params as { id: string }).id;
    if (q.kind === "alias" && q.label === undefined) throw invalid("label", "is required with kind=alias (the alias label)");
    const key = q.kind === "alias" ? JSON.stringify([q.label, id]) : id;
    const list = await s.cohorts.cohortsOf(q.workspace ?? "default", { kind: q.kind ?? "user", key });
    return { cohorts: list.map((c) => ({ ...viewCohort(c), since: iso(c.since) })) };
  });
  admin.post("/api/v1/data-import-keys", {
    schema: op({
      id: "createDataImportKey", summary: "A new data import key for a workspace (shown once): give it to Heap as the client secret", tag: "Cohorts", auth: "admin",
      body: Type.Object({ workspace: Type.Optional(Type.String({ maxLength: 63 })) }, { additionalProperties: false }), errors: [403],
      ok: { status: 201, schema: ImportKeyView, description: "Created; `key` in full only here" },
    }),
  }, async (req, reply) => reply.code(201).send(await s.importKeys.create((req.body as { workspace?: string } | undefined)?.workspace ?? "default")));
  admin.get("/api/v1/data-import-keys", {
    schema: op({
      id: "listDataImportKeys", summary: "Data import keys (masked)", tag: "Cohorts", auth: "admin",
      querystring: Type.Object({ workspace: Type.Optional(Type.String({ maxLength: 63 })) }),
      ok: { status: 200, schema: Type.Object({ keys: Type.Array(ImportKeyView) }), description: "The keys" },
    }),
  }, async (req) => ({ keys: await s.importKeys.list((req.query as { workspace?: string }).workspace) }));
  admin.delete("/api/v1/data-import-keys/:id", {
    schema: op({ id: "deleteDataImportKey", summary: "Revoke a data import key (imports with it answer 401 from now on)", tag: "Cohorts", auth: "admin", params: IdParams, errors: [403, 404], ok: { status: 204, schema: null, description: "Deleted" } }),
  }, async (req, reply) => {
    await s.importKeys.delete((req.params as { id: string }).id);
    return reply.code(204).send();
  });
}
