import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { searchEvents } from "../../currents/event-search.js";
import { traceEvent } from "../../currents/event-trace.js";
import { invalid } from "../../errors.js";
import { Attempt, Nullable, Time, op, viewAttempt } from "../api-schemas.js";
import { parseTime } from "../parse-time.js";
import type { Services } from "../services.js";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const Trace = Type.Object({
  currentId: Type.String(), currentName: Type.String(),
  state: Type.Union(["delivered", "pending", "dead_lettered", "before_launch"].map((s) => Type.Literal(s)), { description: "before_launch: accepted before the Current was launched (a replay can send it)" }),
  deliveredAt: Nullable(Time), pendingSince: Nullable(Time),
  deadLetter: Nullable(Type.Object({ id: Type.Integer(), reason: Type.String(), status: Nullable(Type.Integer()), excerpt: Type.String(), at: Time })),
  attempts: Type.Array(Attempt),
});
const Found = Type.Object({ seq: Type.Integer(), id: Type.String(), type: Type.String(), receivedAt: Time, event: Type.Unknown(), currents: Type.Array(Trace) });

/** "Where is event X?": an event by id, or a user's events, and what each Current did with them. */
export function eventSearchRoutes(app: FastifyInstance, s: Services): void {
  app.get("/api/v1/events", {
    schema: op({
      id: "searchEvents", summary: "Find an event by id, or a user's events, and where each stands in every Current that selects it", tag: "Delivery", auth: "admin",
      querystring: Type.Object({
        workspace: Type.Optional(Type.String({ maxLength: 63 })),
        eventId: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
        userId: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: "user_id, external_user_id or device_id" })),
        since: Type.Optional(Type.String({ maxLength: 40, description: "Accepted at or after (ISO 8601 or UNIX seconds; default 24 h ago)" })),
        until: Type.Optional(Type.String({ maxLength: 40, description: "Accepted before (default now)" })),
        after: Type.Optional(Type.String({ pattern: "^[0-9]{1,18}$", description: "The previous answer's `scannedTo`: search on from there" })),
        limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,3}$", description: "1-100 (20)" })),
      }),
      errors: [], ok: {
        status: 200, description: "The events found (oldest first), and how far the window was searched",
        schema: Type.Object({ events: Type.Array(Found), scannedTo: Type.Integer(), complete: Type.Boolean(), indexed: Type.Boolean(), since: Time, until: Time }),
      },
    }),
  }, async (req) => {
    const q = req.query as { workspace?: string; eventId?: string; userId?: string; since?: string; until?: string; after?: string; limit?: string };
    if ((q.eventId === undefined) === (q.userId === undefined)) throw invalid(q.eventId === undefined ? "eventId" : "userId", "give exactly one of eventId and userId");
    const now = s.now();
    const since = q.since === undefined ? now - 86_400_000 : parseTime("since", q.since);
    const until = q.until === undefined ? now + 1 : parseTime("until", q.until);
    if (since >= until) throw invalid("since", "must be before until");
    const workspace = q.workspace ?? "default";
    const found = await searchEvents(s.store, {
      workspace, eventId: q.eventId, userId: q.userId, since, until, afterSeq: q.after === undefined ? undefined : Number(q.after),
      limit: Math.min(Math.max(Number(q.limit ?? 20), 1), 100), scanLimit: 1_000_000,
    });
    await s.engine.flush();
    const currents = await s.store.config.listCurrents(workspace);
    const events = await Promise.all(found.events.map(async (e) => ({
      seq: e.seq, id: String(e.parsed.id ?? ""), type: e.type, receivedAt: new Date(e.receivedAt).toISOString(), event: e.parsed,
      currents: (await traceEvent(s.store, currents, e, e.parsed)).map((t) => ({
        ...t, deliveredAt: iso(t.deliveredAt), pendingSince: iso(t.pendingSince), attempts: t.attempts.map(viewAttempt),
        deadLetter: t.deadLetter && { ...t.deadLetter, at: new Date(t.deadLetter.at).toISOString() },
      })),
    })));
    return { events, scannedTo: found.scannedTo, complete: found.complete, indexed: found.indexed, since: new Date(since).toISOString(), until: new Date(until).toISOString() };
  });
}
