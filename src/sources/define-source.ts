import type { ResolvedSettings, SettingDefinition } from "../partners/define-partner.js";

/**
 * A source is a declarative definition (SPEC section 12): its settings (secret ones sealed like
 * partner secrets), how a webhook request is verified, how it splits into provider events, and
 * how one provider event maps to catalog events. `src/sources/receive-webhook.ts` does the rest
 * the same way for every provider: stats, strict validation, durable append, the answer.
 */
export type SourceKindId = "sendgrid" | "mailgun" | "postmark" | "twilio" | "ses";

/** A webhook request as it arrived: the raw bytes are what signatures cover. */
export interface WebhookRequest {
  readonly raw: Buffer;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The path and query string as received. */
  readonly url: string;
  readonly query: Readonly<Record<string, string>>;
  readonly contentType: string;
}

export interface SourceContext {
  readonly now: number;
  readonly sourceId: string;
  /** Remembers a value (e.g. a Mailgun token) for `ttlMs`; false when it was already seen. */
  readonly firstSeen: (value: string, ttlMs: number) => boolean;
}

/** Why a request is refused before anything is stored. */
export interface Refusal {
  readonly status: number;
  readonly error: string;
  /** Counted as a signature failure in the source's stats. */
  readonly signature?: boolean;
}

/** One provider event, with the provider's own stable key (retries and replays keep it). */
export interface ProviderEvent {
  readonly type: string;
  readonly key: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** What a provider event says, in catalog terms; `receive-webhook.ts` turns it into the event. */
export interface Mapped {
  readonly type: string;
  /** UNIX seconds (floored when built). */
  readonly time: number;
  readonly email?: string;
  readonly phone?: string;
  /** Custom args, metadata, tags or query parameters: the user id and campaign ids are read here. */
  readonly ids: Readonly<Record<string, string>>;
  /** Catalog properties of the type (only its names). */
  readonly properties: Readonly<Record<string, unknown>>;
  /** Added to the provider key when one provider event gives several catalog events (one per recipient). */
  readonly keySuffix?: string;
}

export interface SourceKind {
  readonly id: SourceKindId;
  readonly title: string;
  /** `esp` of the events (e.g. "SendGrid"). */
  readonly esp: string;
  readonly settings: readonly SettingDefinition[];
  /** The provider's setup, in three or four lines, for the webhook URL. */
  setup(webhookUrl: string): string[];
  /** Refuses a request that is not the provider's (bad signature, stale, replayed), or undefined. */
  verify(req: WebhookRequest, settings: ResolvedSettings, ctx: SourceContext): Refusal | undefined | Promise<Refusal | undefined>;
  /** The provider events of a verified request; throws a Refusal-shaped error when the payload can never be read. */
  split(req: WebhookRequest): ProviderEvent[];
  /** Catalog events of one provider event; none: unmapped (counted and kept, answered 2xx). */
  map(event: ProviderEvent, req: WebhookRequest): Mapped[];
  /** The answer's status for a payload that can never be accepted (Mailgun stops retrying on 406). */
  readonly unreadableStatus?: number;
}

export function defineSource(kind: SourceKind): SourceKind {
  return kind;
}

/** A payload the provider sent that can never be read: answered with the kind's status, not retried. */
export class UnreadablePayload extends Error {}

/** The entries of an object that hold something (not undefined, null or ""): optional catalog properties. */
export function present(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null && v !== ""));
}

/** Every own string or number value of an object, as strings (custom args, metadata, tags...). */
export function stringValues(o: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (o === null || typeof o !== "object" || Array.isArray(o)) return out;
  for (const [k, v] of Object.entries(o)) if (typeof v === "string" || typeof v === "number") out[k] = String(v);
  return out;
}
