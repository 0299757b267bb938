/**
 * A partner is a declarative definition: the settings it needs (secret ones are encrypted
 * at rest and never returned), its batch limits, and how it turns a batch into a request.
 * The delivery engine knows nothing partner-specific beyond this shape.
 */
import type { AttemptResult } from "../delivery/attempt-outcome.js";
import type { EndpointPolicy } from "../security/ssrf-guard.js";

export type PartnerId = "heap" | "heap_api" | "custom_http" | "amplitude" | "mixpanel" | "segment" | "storage";

export interface SettingDefinition {
  readonly key: string;
  readonly label: string;
  /**
   * `choice`: one of `choices`; `number`: an integer in [`min`, `max`]; `fieldMap`: an object of
   * event field path -> partner name (e.g. `{"properties.email_address":"email"}`).
   */
  readonly type: "url" | "string" | "boolean" | "number" | "choice" | "fieldMap";
  readonly required: boolean;
  /** Secret settings are encrypted at rest, masked in answers and never logged. */
  readonly secret: boolean;
  readonly help: string;
  /** Secrets: the fewest characters accepted. */
  readonly minLength?: number;
  /** Secrets: a Standard Webhooks signing secret (`whsec_` + base64 of at least 24 bytes). */
  readonly format?: "whsec";
  /**
   * Secrets: when it changes, the previous value stays in use beside the new one for the
   * overlap (settings `<key>.previous`, until `<key>.previousUntil`), so receivers can switch.
   */
  readonly rotates?: boolean;
  /** What an unset setting means (shown in forms; the partner applies it). */
  readonly default?: string | number | boolean | Readonly<Record<string, string>>;
  /** `choice`: the values accepted, with a label each. */
  readonly choices?: readonly { readonly value: string; readonly label: string }[];
  /** `number`: the range accepted. */
  readonly min?: number;
  readonly max?: number;
  /** `string`: several lines (a PEM certificate...): a text area in forms. */
  readonly multiline?: boolean;
  /** `string`: a regular expression the value must match, and what to say when it does not. */
  readonly pattern?: string;
  readonly patternHelp?: string;
  /** Booleans: when true and the secret `generates` names is not set, Currents generates it. */
  readonly generates?: string;
}

export interface OutgoingBatch {
  /** The events, each as stored JSON text (already transformed for the Current). */
  readonly bodies: readonly string[];
  /** Each event's position and acceptance time (live delivery, replays and redrives). */
  readonly events?: ReadonlyArray<{ readonly seq: number; readonly receivedAt: number }>;
  /** Stable across retries of the same batch. */
  readonly idempotencyKey: string;
}

export interface OutgoingRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer;
  /**
   * Requests answered 2xx before this one is sent, in order (e.g. Heap's user properties);
   * an answer that is not 2xx settles the attempt like this request's own would.
   */
  readonly before?: readonly OutgoingRequest[];
  /** Called once the batch is delivered (e.g. to remember what was sent). */
  readonly onDelivered?: () => void;
  /** How many property keys or values the encoding had to cut (counted per Current once delivered). */
  readonly valuesCut?: number;
  /** How much of the answer's body `readAnswer` needs (default 1 KB: an excerpt). */
  readonly answerBytes?: number;
}

/** A partner's answer, for `readAnswer`. */
export interface PartnerAnswer {
  readonly status: number;
  readonly body: string;
  readonly retryAfter?: string;
}

/**
 * What an answer says of each event of the batch (by index in the request). Every index not
 * named is delivered. Indexes to retry are sent again (alone), at once or after `afterMs`.
 */
export interface EventOutcomes {
  /** The answer refuses the credentials (e.g. Amplitude's 400 "Invalid API key"): the Current fails, nothing is settled. */
  readonly failing?: string;
  readonly deadLetters?: ReadonlyArray<{ readonly index: number; readonly reason: string }>;
  readonly retry?: ReadonlyArray<{ readonly index: number; readonly afterMs?: number }>;
}

/**
 * Client-side rate limits: at most `perMinute` events a minute, and at most `perKeyPerMinute`
 * for one key (e.g. Heap's identity). A key over its limit is held back alone: its events
 * wait in the worker while the others flow; the acknowledged position never passes them.
 */
export interface RateLimit {
  readonly perMinute: number;
  readonly perKeyPerMinute?: number;
  /** The event's key, from its stored JSON; undefined: no per-key limit for it. */
  keyOf?(body: string): string | undefined;
}

/** The Current's settings with secrets decrypted, only ever held in memory. */
export type ResolvedSettings = Readonly<Record<string, unknown>>;

export interface PartnerDefinition {
  readonly id: PartnerId;
  readonly title: string;
  readonly description: string;
  readonly settings: readonly SettingDefinition[];
  readonly limits: { readonly maxBatchEvents: number; readonly maxBatchBytes: number };
  /**
   * Builds the request for a batch; an empty batch is the connection check. `state` is the
   * partner's own memory for one Current (from `createState`), kept while its worker runs.
   */
  buildRequest(batch: OutgoingBatch, settings: ResolvedSettings, now: number, state?: unknown): OutgoingRequest;
  /**
   * Reads an answer that names events (Amplitude's invalid indexes and throttled users,
   * Mixpanel's failed records): per-event outcomes, or undefined to apply the SPEC section 5
   * table to the whole batch (bisection stays the fallback when an answer names nothing).
   */
  readAnswer?(answer: PartnerAnswer, events: number, settings: ResolvedSettings): EventOutcomes | undefined;
  /** Checks the settings as a whole (e.g. one of two credentials): the setting to name and why, or undefined. */
  validate?(settings: ResolvedSettings): { readonly field: string; readonly message: string } | undefined;
  /** Why an event can never be sent with these settings (it becomes a dead letter with this reason). */
  refuse?(body: string, settings: ResolvedSettings): string | undefined;
  /** Client-side rate limits, from the settings. */
  rateLimit?(settings: ResolvedSettings): RateLimit | undefined;
  /** A fresh memory for one Current (see `buildRequest`). */
  createState?(): unknown;
  /** Send Test Events: adapts a sample event (e.g. to a test identity that pollutes no real user). */
  testEvent?(event: Record<string, unknown>, settings: ResolvedSettings): Record<string, unknown>;
  /** What the dashboard says about test events for this partner. */
  readonly testEventsNote?: string;
  /**
   * A partner that does not post (storage): writes the batch itself; an empty batch is the
   * connection check. Used instead of `buildRequest` and the HTTP sender.
   */
  deliver?(batch: OutgoingBatch, settings: ResolvedSettings, signal: AbortSignal, current: { readonly id: string; readonly workspace: string }, policy: EndpointPolicy): Promise<AttemptResult>;
  /** Batching defaults from the settings (a Current's own batching options still win). */
  batching?(settings: ResolvedSettings): { readonly lingerMs?: number; readonly fill?: boolean; readonly maxBatchEvents?: number; readonly maxBatchBytes?: number };
  /** Where the Current sends, for display (default: the `endpoint` setting). */
  endpointOf?(settings: Readonly<Record<string, unknown>>): string;
}

export function definePartner(definition: PartnerDefinition): PartnerDefinition {
  return definition;
}
