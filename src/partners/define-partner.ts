/**
 * A partner is a declarative definition: the settings it needs (secret ones are encrypted
 * at rest and never returned), its batch limits, and how it turns a batch into a request.
 * The delivery engine knows nothing partner-specific beyond this shape.
 */
export type PartnerId = "heap" | "custom_http";

export interface SettingDefinition {
  readonly key: string;
  readonly label: string;
  readonly type: "url" | "string" | "boolean";
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
  /** Booleans: when true and the secret `generates` names is not set, Currents generates it. */
  readonly generates?: string;
}

export interface OutgoingBatch {
  /** The events, each as stored JSON text (already transformed for the Current). */
  readonly bodies: readonly string[];
  /** Stable across retries of the same batch. */
  readonly idempotencyKey: string;
}

export interface OutgoingRequest {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer;
}

/** The Current's settings with secrets decrypted, only ever held in memory. */
export type ResolvedSettings = Readonly<Record<string, unknown>>;

export interface PartnerDefinition {
  readonly id: PartnerId;
  readonly title: string;
  readonly description: string;
  readonly settings: readonly SettingDefinition[];
  readonly limits: { readonly maxBatchEvents: number; readonly maxBatchBytes: number };
  /** Builds the request for a batch; an empty batch is the connection check. */
  buildRequest(batch: OutgoingBatch, settings: ResolvedSettings, now: number): OutgoingRequest;
}

export function definePartner(definition: PartnerDefinition): PartnerDefinition {
  return definition;
}
