import { parseTime } from "../parse-time.js";
import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import { JobBusyError } from "../../delivery/delivery-engine.js";
import { ClientError, invalid } from "../../errors.js";
import type { Services } from "../services.js";
import { CheckAnswer, History, Redrive, Replay, Series, op } from "../api-schemas.js";

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const Ids = Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 10_000 });
/** A time: ISO 8601 text or UNIX seconds. */
const Time = Type.Union([Type.String({ maxLength: 64 }), Type.Number()]);

const busy = (error: unknown) => {
  if (error instanceof JobBusyError) throw new ClientError(409, "busy", error.message);
  throw error;
};

/** Send Test Events, replay, dead-letter redrive / discard, and the Current's history. */
export function currentActionRoutes(app: FastifyInstance, s: Services): void {
  app.post("/api/v1/currents/:id/test", {
    schema: op({ id: "sendTestEvents", summary: "Send Test Events: one marked sample of each selected type; the partner's answer", tag: "Delivery", auth: "admin", params: IdParams, errors: [403, 404], ok: { status: 200, schema: CheckAnswer, description: "What the partner answered" } }),
  }, async (req) => {
    const current = await s.currents.record((req.params as { id: string }).id);
    if (current.events.length === 0) throw invalid("events", "select at least one event type to send test events");
    const { events, result } = await s.engine.sendTestEvents(current);
    return result.kind === "answered"
      ? { ok: result.status >= 200 && result.status < 300, events, status: result.status, latencyMs: result.latencyMs, response: result.excerpt.slice(0, 500) }
      : { ok: false, events, status: null, latencyMs: result.latencyMs, error: result.error };
  });

  app.post("/api/v1/currents/:id/replay", {
    schema: op({
      id: "replay", summary: "Re-send the retained events accepted in a time range", tag: "Delivery", auth: "admin", params: IdParams,
      body: Type.Object({ from: Time, to: Type.Optional(Time) }, { additionalProperties: false }), errors: [403, 404, 409],
      ok: { status: 202, schema: Replay, description: "Started; its progress is in the Current's stats.job" },
    }),
  }, async (req, reply) => {
    const current = await s.currents.record((req.params as { id: string }).id);
    if (current.status === "draft") throw new ClientError(409, "conflict", "launch the Current before replaying");
    const body = req.body as { from: string | number; to?: string | number };
    const from = parseTime("from", body.from);
    const to = body.to === undefined ? s.now() : parseTime("to", body.to);
    if (body.to === undefined && from > to) throw invalid("from", `is in the future (${new Date(from).toISOString()}); replay re-sends events already accepted`);
    if (to < from) throw invalid("to", "must not be before from");
    await s.engine.flushProgress();
    const fromSeq = await s.store.events.seqBefore(from);
    const toSeq = await s.store.events.seqBefore(to + 1);
    const job = await s.engine.startReplay(current, fromSeq, toSeq).catch(busy);
    return reply.code(202).send({ replay: { ...job, from: new Date(from).toISOString(), to: new Date(to).toISOString() } });
  });

  app.post("/api/v1/currents/:id/job/cancel", {
    schema: op({
      id: "cancelJob", summary: "Cancel the running replay or redrive (what was sent stays sent)", tag: "Delivery", auth: "admin", params: IdParams, errors: [403, 404, 409],
      ok: { status: 200, schema: Type.Object({ job: Type.Object({}, { additionalProperties: true }) }), description: "Cancelled; the job as it stopped" },
    }),
  }, async (req) => {
    const { id } = req.params as { id: string };
    await s.currents.record(id);
    const job = s.engine.cancelJob(id);
    if (!job) throw new ClientError(409, "conflict", "no replay or redrive of this Current is running in this process");
    return { job: { ...job, startedAt: new Date(job.startedAt).toISOString(), finishedAt: job.finishedAt === null ? null : new Date(job.finishedAt).toISOString() } };
  });

  app.post("/api/v1/currents/:id/retry-now", {
    schema: op({
      id: "retryNow", summary: "Retry now: end the Current's wait before its next attempt (backoff or Retry-After)", tag: "Delivery", auth: "admin", params: IdParams, errors: [403, 404, 409],
      ok: { status: 202, schema: Type.Object({ retrying: Type.Boolean() }), description: "The waiting attempts go now" },
    }),
  }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const current = await s.currents.record(id);
    if (current.status !== "active") throw new ClientError(409, "conflict", `the Current is ${current.status}; only an active Current retries${current.status === "failing" ? " (a failing one is probed; Resume it to try at once)" : ""}`);
    if (!s.engine.retryNow(id)) throw new ClientError(409, "conflict", "this process does not deliver the Current now; ask the process that does (GET /api/v1/cluster)");
    return reply.code(202).send({ retrying: true });
  });

  app.post("/api/v1/currents/:id/dead-letters/redrive", {
    schema: op({
      id: "redriveDeadLetters", summary: "Send all (or the chosen) dead letters again", tag: "Dead letters", auth: "admin", params: IdParams,
      body: Type.Optional(Type.Object({ ids: Type.Optional(Ids) }, { additionalProperties: false })), errors: [403, 404, 409],
      ok: { status: 202, schema: Redrive, description: "Started; its progress is in the Current's stats.job" },
    }),
  }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const current = await s.currents.record(id);
    const wanted = (req.body as { ids?: number[] } | undefined)?.ids;
    const job = await s.engine.startRedrive(current, wanted).catch(busy);
    return reply.code(202).send({ redrive: job });
  });

  app.post("/api/v1/currents/:id/dead-letters/discard", {
    schema: op({
      id: "discardDeadLetters", summary: "Drop chosen dead letters", tag: "Dead letters", auth: "admin", params: IdParams,
      body: Type.Object({ ids: Ids }, { additionalProperties: false }), errors: [403, 404],
      ok: { status: 200, schema: Type.Object({ discarded: Type.Integer() }), description: "How many went" },
    }),
  }, async (req) => {
    const { id } = req.params as { id: string };
    await s.currents.record(id);
    const discarded = await s.store.deadLetters.remove(id, (req.body as { ids: number[] }).ids);
    req.log.info({ currentId: id, discarded }, "dead letters discarded");
    return { discarded };
  });

  app.get("/api/v1/currents/:id/series", {
    schema: op({
      id: "getSeries", summary: "Per-minute points for the charts (last hour or day)", tag: "Delivery", auth: "admin", params: IdParams,
      querystring: Type.Object({ window: Type.Optional(Type.Union([Type.Literal("hour"), Type.Literal("day")])) }), errors: [404],
      ok: { status: 200, schema: Series, description: "One point per minute" },
    }),
  }, async (req) => {
    const window = (req.query as { window?: "hour" | "day" }).window ?? "hour";
    return { window, points: await s.currents.series((req.params as { id: string }).id, window === "day" ? 1440 : 60) };
  });

  app.get("/api/v1/currents/:id/volume", {
    schema: op({
      id: "getVolumeByType", summary: "Events delivered by type over the last hour or day (from the per-minute series, written every 10 s)", tag: "Delivery", auth: "admin", params: IdParams,
      querystring: Type.Object({ window: Type.Optional(Type.Union([Type.Literal("hour"), Type.Literal("day")])) }), errors: [404],
      ok: { status: 200, schema: Type.Object({ window: Type.String(), types: Type.Array(Type.Object({ type: Type.String(), delivered: Type.Integer() })) }), description: "Most delivered first" },
    }),
  }, async (req) => {
    const window = (req.query as { window?: "hour" | "day" }).window ?? "hour";
    const { id } = req.params as { id: string };
    await s.currents.record(id);
    return { window, types: await s.store.config.deliveredByType(id, Math.floor(s.now() / 60_000) - (window === "day" ? 1439 : 59)) };
  });

  app.get("/api/v1/currents/:id/history", {
    schema: op({ id: "getHistory", summary: "Status changes and notices", tag: "Delivery", auth: "admin", params: IdParams, errors: [404], ok: { status: 200, schema: History, description: "Newest first" } }),
  }, async (req) => ({
    history: await s.currents.history((req.params as { id: string }).id),
  }));
}
