import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { CurrentInput } from "../../currents/current-input.js";
import type { Logger } from "pino";
import type { Services } from "../services.js";
import { Attempt, CurrentView, DeadLetter, Nullable, SettingsInput, op, viewAttempt } from "../api-schemas.js";
import { parseTime } from "../parse-time.js";

const Transformation = Type.Object({ field: Type.String(), action: Type.Union([Type.Literal("remove"), Type.Literal("hash")]) }, { additionalProperties: false });
const Batching = Type.Object({
  maxBatchEvents: Type.Optional(Type.Integer()),
  maxBatchBytes: Type.Optional(Type.Integer()),
  lingerMs: Type.Optional(Type.Integer({ description: "With fill: the most a batch waits to fill while a request slot is free (ms)" })),
  fill: Type.Optional(Type.Boolean({ description: "Wait up to lingerMs for fuller batches even with a free slot (per-request billing); default: send at once" })),
  maxInFlight: Type.Optional(Type.Integer()),
  requestTimeoutMs: Type.Optional(Type.Integer()),
}, { additionalProperties: false });
const Settings = SettingsInput;

const CreateBody = Type.Object({
  name: Type.String({ maxLength: 200 }),
  partner: Type.String({ maxLength: 50 }),
  contactEmail: Type.Optional(Type.Union([Type.String({ maxLength: 320 }), Type.Null()])),
  workspace: Type.Optional(Type.String({ maxLength: 63 })),
  settings: Settings,
  events: Type.Array(Type.String({ maxLength: 200 }), { maxItems: 500 }),
  transformations: Type.Optional(Type.Array(Transformation, { maxItems: 200 })),
  batching: Type.Optional(Batching),
  ordering: Type.Optional(Type.Union([Type.Literal("none"), Type.Literal("per_user")], { description: "per_user: each user's events arrive in acceptance order" })),
}, { additionalProperties: false });

const PatchBody = Type.Partial(CreateBody, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

/** Currents (SPEC section 6): create, list, get, update, launch, pause, resume, delete, attempts. */
export function currentRoutes(app: FastifyInstance, s: Services): void {
  app.get("/api/v1/currents", {
    schema: op({
      id: "listCurrents", summary: "List Currents with their stats", tag: "Currents", auth: "admin",
      querystring: Type.Object({ workspace: Type.Optional(Type.String({ maxLength: 63 })) }),
      ok: { status: 200, schema: Type.Object({ currents: Type.Array(CurrentView) }), description: "The Currents" },
    }),
  }, async (req) => {
    const { workspace } = req.query as { workspace?: string };
    return { currents: await s.currents.list(workspace) };
  });

  app.post("/api/v1/currents", {
    schema: op({ id: "createCurrent", summary: "Create a Current (draft)", tag: "Currents", auth: "admin", body: CreateBody, errors: [403], ok: { status: 201, schema: CurrentView, description: "Created, as a draft" } }),
  }, async (req, reply) => {
    const current = await s.currents.create(req.body as CurrentInput, req.log as unknown as Logger);
    return reply.code(201).send(current);
  });

  app.get("/api/v1/currents/:id", {
    schema: op({ id: "getCurrent", summary: "A Current with its stats", tag: "Currents", auth: "admin", params: IdParams, errors: [404], ok: { status: 200, schema: CurrentView, description: "The Current" } }),
  }, async (req) => s.currents.get((req.params as { id: string }).id));

  app.patch("/api/v1/currents/:id", {
    schema: op({
      id: "updateCurrent", summary: "Update Current: change settings, events, transformations, batching (keeps its position)", tag: "Currents", auth: "admin",
      params: IdParams, body: PatchBody, errors: [403, 404, 409], ok: { status: 200, schema: CurrentView, description: "The updated Current" },
    }),
  }, async (req) =>
    s.currents.update((req.params as { id: string }).id, req.body as CurrentInput, req.log as unknown as Logger));

  app.delete("/api/v1/currents/:id", {
    schema: op({ id: "deleteCurrent", summary: "Delete a Current", tag: "Currents", auth: "admin", params: IdParams, errors: [403, 404], ok: { status: 204, schema: null, description: "Deleted" } }),
  }, async (req, reply) => {
    await s.currents.delete((req.params as { id: string }).id, req.log as unknown as Logger);
    return reply.code(204).send();
  });

  const lifecycle = {
    launch: "Launch a draft: it receives events accepted from now on",
    pause: "Pause: events keep buffering",
    resume: "Resume (also re-enables a failing or disabled Current): the backlog is delivered",
  } as const;
  for (const action of ["launch", "pause", "resume"] as const) {
    app.post(`/api/v1/currents/:id/${action}`, {
      schema: op({ id: `${action}Current`, summary: lifecycle[action], tag: "Currents", auth: "admin", params: IdParams, errors: [403, 404, 409], ok: { status: 200, schema: CurrentView, description: "The Current in its new status" } }),
    }, async (req) =>
      s.currents[action]((req.params as { id: string }).id, req.log as unknown as Logger));
  }

  app.get("/api/v1/currents/:id/attempts", {
    schema: op({
      id: "listAttempts", summary: "Delivery attempts of the last days (the attempt log), filtered and paged", tag: "Delivery", auth: "admin", params: IdParams,
      querystring: Type.Object({
        outcome: Type.Optional(Type.String({ pattern: "^[a-z_]{1,20}$", description: "delivered, failed (anything else), partial, or one outcome (retry, split, halve, failing, test)" })),
        since: Type.Optional(Type.String({ maxLength: 40, description: "ISO 8601 time or UNIX seconds" })),
        until: Type.Optional(Type.String({ maxLength: 40, description: "ISO 8601 time or UNIX seconds" })),
        before: Type.Optional(Type.String({ pattern: "^[0-9]{1,15}$", description: "The previous page's `next`" })),
        limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,3}$", description: "1-500 (50)" })),
      }),
      errors: [404], ok: { status: 200, schema: Type.Object({ attempts: Type.Array(Attempt), next: Nullable(Type.String()) }), description: "Newest first; `next` pages on" },
    }),
  }, async (req) => {
    const { id } = req.params as { id: string };
    const q = req.query as { outcome?: string; since?: string; until?: string; before?: string; limit?: string };
    const limit = Math.min(Math.max(Number(q.limit ?? 50), 1), 500);
    await s.currents.record(id);
    await s.engine.flush();
    const rows = await s.store.attempts.list({
      currentId: id, outcome: q.outcome, limit,
      since: q.since === undefined ? undefined : parseTime("since", q.since),
      until: q.until === undefined ? undefined : parseTime("until", q.until),
      beforeId: q.before === undefined ? undefined : Number(q.before),
    });
    return { attempts: rows.map(viewAttempt), next: rows.length === limit ? String((rows[rows.length - 1] as { id: number }).id) : null };
  });

  app.get("/api/v1/currents/:id/dead-letters", {
    schema: op({
      id: "listDeadLetters", summary: "Events the partner refused, with its status and answer (paged by id)", tag: "Dead letters", auth: "admin", params: IdParams,
      querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,4}$" })), after: Type.Optional(Type.String({ pattern: "^[0-9]{1,15}$" })) }),
      errors: [404], ok: { status: 200, schema: Type.Object({ total: Type.Integer(), deadLetters: Type.Array(DeadLetter) }), description: "Oldest first" },
    }),
  }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const q = req.query as { limit?: string; after?: string };
    const limit = q.limit === undefined ? undefined : Math.min(Math.max(Number(q.limit), 1), 1000);
    const after = q.after === undefined ? undefined : Number(q.after);
    await s.currents.record(id);
    const letters = await s.store.deadLetters.list(id, limit ?? 100, after ?? 0);
    // Each event goes out as its stored JSON text, never parsed and serialised again (an event
    // of any depth or with any number in it answers as it was received).
    const items = letters.map((l) => {
      const rest = JSON.stringify({ reason: l.reason, status: l.status, excerpt: l.excerpt, at: new Date(l.createdAt).toISOString() });
      return `{"id":${l.id},"event":${l.body},${rest.slice(1)}`;
    });
    return reply.type("application/json").send(`{"total":${await s.store.deadLetters.count(id)},"deadLetters":[${items.join(",")}]}`);
  });
}
