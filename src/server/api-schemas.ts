import type { AttemptRow } from "../store/port.js";
import { type TSchema, Type } from "@sinclair/typebox";

/**
 * The shapes of the API's answers, for the OpenAPI document (`/api/docs`). Requests are
 * validated by the route schemas; answers are sent as the services build them (the schemas
 * below document them, and a test checks every answer the server gives against them).
 */
export const Nullable = <T extends TSchema>(s: T) => Type.Union([s, Type.Null()]);
export const Time = Type.String({ format: "date-time" });

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: "Stable, machine-readable (e.g. invalid_input, unauthorized, backlog_full)" }),
    message: Type.String({ description: "What is wrong, in words" }),
    field: Type.Optional(Type.String({ description: "The input field at fault, when one is" })),
  }),
}, { $id: "Error", additionalProperties: true, description: "Every error answer. A refused ingest request also carries its per-event results beside `error`." });

const Rejected = Type.Object({ index: Type.Integer(), id: Type.Optional(Type.String()), error: Type.String() });
const Warning = Type.Object({ index: Type.Integer(), id: Type.String(), type: Type.String(), warning: Type.String() });
export const IngestAnswer = Type.Object({
  accepted: Type.Integer({ description: "Events acknowledged: stored now, or already stored within the dedupe window" }),
  duplicates: Type.Integer({ description: "Of the accepted, how many were already stored" }),
  rejected: Type.Array(Rejected),
  warnings: Type.Array(Warning, { description: "Accepted events with catalog-required fields missing" }),
});

export const IngestBody = Type.Object({
  events: Type.Array(Type.Object({
    event_type: Type.String(), id: Type.String(), time: Type.Integer({ description: "UNIX seconds" }),
    user: Type.Optional(Type.Object({}, { additionalProperties: true })), properties: Type.Optional(Type.Object({}, { additionalProperties: true })),
  }, { additionalProperties: true }), { maxItems: 1000 }),
}, { description: "At most 1,000 events and 5 MB (uncompressed; send Content-Encoding: gzip to compress)" });

const Job = Nullable(Type.Object({
  kind: Type.String(), state: Type.String(), total: Type.Integer(), sent: Type.Integer(),
  startedAt: Nullable(Type.String()), finishedAt: Nullable(Type.String()), detail: Nullable(Type.String()),
}));
const JobProgress = Type.Object({
  kind: Type.String(), state: Type.String(), total: Type.Integer(), sent: Type.Integer(),
  startedAt: Type.Number(), finishedAt: Nullable(Type.Number()), detail: Nullable(Type.String()),
}, { additionalProperties: true });

export const Stats = Type.Object({
  delivered: Type.Integer(), deadLetteredTotal: Type.Integer(), delivered24h: Type.Integer(), pending: Type.Integer(),
  failedAttempts: Type.Integer(), deadLettered: Type.Integer(), expired: Type.Integer(), oldestPendingAgeMs: Nullable(Type.Number()),
  heldByRateLimit: Type.Integer({ description: "Pending events a partner's rate limit holds back now (in the process delivering the Current)" }),
  valuesCut: Type.Integer({ description: "Property keys or values cut to the partner's limits" }),
  deadLettersByReason: Type.Array(Type.Object({ reason: Type.String(), count: Type.Integer() }), { description: "Dead letters held now by reason (over the newest 10,000)" }),
  lastDeliveredAt: Nullable(Type.String()), lastError: Nullable(Type.String()),
  lastErrorAt: Nullable(Type.String({ description: "When the last error happened; the error clears itself on the next delivery" })),
  retryingUntil: Nullable(Type.String({ description: "While the Current waits to retry (as the process delivering it sees it): when the next attempt is due" })),
  job: Job,
});

export const CurrentView = Type.Object({
  id: Type.String(), name: Type.String(), partner: Type.String(), workspace: Type.String(), contactEmail: Nullable(Type.String()),
  settings: Type.Object({}, { additionalProperties: true, description: "Partner settings; secrets only masked (****abcd)" }),
  destination: Type.String({ description: "Where the Current sends (its endpoint, or the partner's URL for its settings)" }),
  events: Type.Array(Type.String()),
  transformations: Type.Array(Type.Object({ field: Type.String(), action: Type.String() })),
  batching: Type.Object({}, { additionalProperties: true }),
  ordering: Type.Union([Type.Literal("none"), Type.Literal("per_user")], { description: "per_user: each user's events arrive in acceptance order" }),
  status: Type.Union(["draft", "active", "paused", "failing", "disabled"].map((s) => Type.Literal(s))),
  statusReason: Nullable(Type.String()), statusSince: Time, createdAt: Time, updatedAt: Time, launchedAt: Nullable(Type.String()),
  stats: Stats,
  secretsShownOnce: Type.Optional(Type.Record(Type.String(), Type.String(), { description: "Secrets Currents generated for this change (a signing secret): shown once" })),
});

export const Attempt = Type.Object({
  id: Type.Integer(), at: Time, events: Type.Integer(), status: Nullable(Type.Integer()), latencyMs: Type.Number(), outcome: Type.String(), error: Nullable(Type.String()),
  attempt: Type.Integer({ description: "1 for the batch's first try, 2 for its first retry..." }),
  firstSeq: Type.Integer(), lastSeq: Type.Integer(), partition: Nullable(Type.Integer()),
  excerpt: Type.String({ description: "The start of the partner's answer (300 characters at most)" }), idempotencyKey: Nullable(Type.String()),
});
export const viewAttempt = (a: AttemptRow) => {
  const { currentId: _, ...rest } = a;
  return { ...rest, at: new Date(a.at).toISOString() };
};
export const DeadLetter = Type.Object({
  id: Type.Integer(), event: Type.Unknown({ description: "The event as stored" }), reason: Type.String(), status: Nullable(Type.Integer()), excerpt: Type.String(), at: Time,
});
export const IngestKey = Type.Object({
  id: Type.String(), workspace: Type.String(), key: Type.String({ description: "The key in full only when created; masked after" }), strict: Type.Boolean(),
  createdAt: Time, revokedAt: Nullable(Type.String()),
});
export const CheckAnswer = Type.Object({
  ok: Type.Boolean(), status: Nullable(Type.Integer()), latencyMs: Type.Number(), error: Type.Optional(Type.String()),
  events: Type.Optional(Type.Integer()), response: Type.Optional(Type.String()),
});
export const Replay = Type.Object({ replay: Type.Intersect([JobProgress, Type.Object({ from: Time, to: Time })]) });
export const Redrive = Type.Object({ redrive: JobProgress });
export const EventTypes = Type.Object({ groups: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), eventTypes: Type.Array(Type.Object({}, { additionalProperties: true })) })) });
/** Partner settings as sent: strings, booleans, numbers, a field map (path -> name), or null to clear. */
export const SettingsInput = Type.Record(Type.String({ maxLength: 100 }), Type.Union([
  Type.String(), Type.Boolean(), Type.Number(), Type.Null(),
  Type.Record(Type.String({ maxLength: 200 }), Type.String({ maxLength: 200 }), { maxProperties: 50 }),
]), { maxProperties: 50 });
export const Partners = Type.Object({ partners: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), description: Type.String() }, { additionalProperties: true })) });
export const Cluster = Type.Object({
  store: Type.String(), process: Type.String(),
  processes: Type.Array(Type.Object({ id: Type.String(), expiresAt: Type.Number() })),
  currents: Type.Array(Type.Object({
    currentId: Type.String(), process: Type.String(), expiresAt: Type.Number(),
    partition: Type.Optional(Type.Integer({ description: "JetStream mode: the partition of the Current this process delivers (each has its own lease)" })),
  })),
  partitions: Type.Optional(Type.Integer({ description: "JetStream mode: the event log's partitions" })),
});
export const Series = Type.Object({
  window: Type.String(),
  points: Type.Array(Type.Object({
    at: Time, delivered: Type.Integer(), failed: Type.Integer(), p50Ms: Nullable(Type.Number()), p99Ms: Nullable(Type.Number()),
    backlog: Nullable(Type.Integer()), oldestAgeMs: Nullable(Type.Number()),
  })),
});
export const History = Type.Object({ history: Type.Array(Type.Object({ at: Nullable(Type.String()), kind: Type.String(), status: Nullable(Type.String()), message: Type.String() })) });
export const Audit = Type.Object({ audit: Type.Array(Type.Object({
  id: Type.Integer(), at: Time, actor: Type.String(), action: Type.String(), target: Nullable(Type.String()), status: Type.Integer(),
  ip: Nullable(Type.String()), requestId: Nullable(Type.String()),
})) });
export const Session = Type.Object({ role: Nullable(Type.String()), csrfToken: Type.Optional(Type.String()) });

export type Tag = "Ingest" | "Sources" | "Cohorts" | "Currents" | "Delivery" | "Dead letters" | "Keys and workspaces" | "Catalog and partners" | "Session" | "Operations";
export const TAGS: ReadonlyArray<{ name: Tag; description: string }> = [
  { name: "Ingest", description: "Sending events (ingest key)" },
  { name: "Sources", description: "Provider webhooks (SendGrid, Mailgun, Postmark, Twilio) turned into catalog events" },
  { name: "Currents", description: "Export connections: create, update, lifecycle" },
  { name: "Delivery", description: "What a Current sent: attempts, charts, history, test events, replay" },
  { name: "Dead letters", description: "Events a partner refused: list, redrive, discard" },
  { name: "Keys and workspaces", description: "Ingest keys and workspace settings" },
  { name: "Cohorts", description: "Cohorts from partners (Heap's cohort sync): the Partner Cohort Import API, membership queries, data import keys" },
  { name: "Catalog and partners", description: "The event dictionary, the partners and their settings" },
  { name: "Session", description: "Dashboard login (cookie session)" },
  { name: "Operations", description: "Health, readiness, metrics, the cluster, the audit log" },
];

const ERROR_TEXT: Record<number, string> = {
  400: "The input is wrong: the answer names the field",
  401: "No valid credentials",
  403: "Not allowed: a read-only token, or a session change without its CSRF token",
  404: "No such object",
  406: "A payload that can never be accepted (Mailgun stops retrying on 406)",
  409: "Not in a state that allows this",
  413: "Too large: the answer states the limit",
  415: "Not JSON, or an unsupported Content-Encoding",
  429: "Too many: rate limit, backlog limit or failed authentications (see Retry-After)",
  503: "The store is unreachable; nothing was acknowledged (see Retry-After)",
  507: "The store's disk is full or under its reserve; nothing was acknowledged (see Retry-After)",
};

export interface Operation {
  readonly id: string;
  readonly summary: string;
  readonly tag: Tag;
  /** Who may call it: the admin token (or a dashboard session), the ingest key, or anyone. */
  readonly auth: "admin" | "ingest" | "none";
  readonly params?: TSchema;
  readonly querystring?: TSchema;
  readonly body?: TSchema;
  /** The success answer. A `null` schema means no body (204). */
  readonly ok: { readonly status: number; readonly schema: TSchema | null; readonly description: string };
  /** Error statuses this operation answers (401 is added for authenticated ones, 429 for admin ones, 503/507 for those that touch the store). */
  readonly errors?: readonly number[];
  readonly store?: boolean;
}

/** The route schema of an operation: validation of its input, and its page in the OpenAPI document. */
export function op(o: Operation): Record<string, unknown> {
  const errors = new Set(o.errors ?? []);
  if (o.auth !== "none") errors.add(401);
  if (o.auth === "admin") errors.add(429);
  if (o.params || o.querystring || o.body) errors.add(400);
  if (o.store !== false && o.auth !== "none") {
    errors.add(503);
    errors.add(507);
  }
  const response: Record<string, unknown> = {
    [o.ok.status]: o.ok.schema === null ? { description: o.ok.description, type: "null" } : { ...o.ok.schema, description: o.ok.description },
  };
  for (const status of [...errors].sort()) response[status] = { ...Type.Ref(ErrorBody), description: ERROR_TEXT[status] ?? "Error" };
  return {
    operationId: o.id,
    summary: o.summary,
    tags: [o.tag],
    security: o.auth === "admin" ? [{ adminToken: [] }, { session: [] }] : o.auth === "ingest" ? [{ ingestKey: [] }] : [],
    ...(o.params ? { params: o.params } : {}),
    ...(o.querystring ? { querystring: o.querystring } : {}),
    ...(o.body ? { body: o.body } : {}),
    response,
  };
}

export const SourceView = Type.Object({
  id: Type.String(), kind: Type.String(), name: Type.String(), workspace: Type.String(),
  settings: Type.Object({}, { additionalProperties: true, description: "Settings; secrets only masked (****abcd)" }),
  webhookPath: Type.String(), webhookUrl: Type.String({ description: "Where the provider posts (built from the URL this answer was asked on; Twilio: its public URL setting)" }),
  setup: Type.Array(Type.String(), { description: "The provider's setup steps" }),
  createdAt: Time, updatedAt: Time,
  stats: Type.Object({
    requests: Type.Integer(), signatureFailures: Type.Integer(), unmapped: Type.Integer(), lastError: Nullable(Type.String()), lastErrorAt: Nullable(Type.String()),
    byType: Type.Record(Type.String(), Type.Integer(), { description: "Events produced, by catalog type" }),
    recentUnmapped: Type.Array(Type.Object({ at: Time, providerType: Type.String(), excerpt: Type.String() }), { description: "The last 100 provider events with no mapping, newest first" }),
  }),
});
export const WebhookAnswer = Type.Object({ accepted: Type.Integer(), duplicates: Type.Integer(), unmapped: Type.Integer() });
