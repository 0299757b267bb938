/**
 * The Current: one export connection (SPEC section 1).
 *
 * Lifecycle:
 * - draft:    created, not yet sending. Launch makes it active; its cursor starts at the
 *             newest stored event, so it receives only events accepted after its launch.
 * - active:   a worker batches and sends its events.
 * - paused:   the user paused it; events keep buffering; resume delivers the backlog.
 * - failing:  the partner refused the credentials or URL (401/403/404); events buffer,
 *             probes run, an update or a successful probe makes it active again.
 * - disabled: failing for 5 days in a row; events stay until retention ends; resume re-enables.
 */
export type CurrentStatus = "draft" | "active" | "paused" | "failing" | "disabled";

export type TransformationAction = "remove" | "hash";
export interface Transformation {
  readonly field: string;
  readonly action: TransformationAction;
}

/** Per-Current batching options; unset ones take the service defaults. */
export interface BatchingOptions {
  readonly maxBatchEvents?: number;
  readonly maxBatchBytes?: number;
  /** With `fill`, the most a batch waits to fill while a request slot is free. */
  readonly lingerMs?: number;
  /**
   * Wait up to `lingerMs` for fuller batches even when a request slot is free (a partner that
   * bills per request, files). @defaultValue false: a free slot sends what waits at once, and
   * batches fill only while every slot is busy (fresh at low rates, full at high ones).
   */
  readonly fill?: boolean;
  readonly maxInFlight?: number;
  readonly requestTimeoutMs?: number;
  /** `per_user`: each user's events reach the partner in acceptance order (lanes by user). @defaultValue "none" */
  readonly ordering?: "none" | "per_user";
}

export interface CurrentRecord {
  readonly id: string;
  readonly workspace: string;
  readonly name: string;
  readonly partner: string;
  readonly contactEmail: string | null;
  /** Non-secret partner settings (endpoint...). */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Secret partner settings, encrypted (AES-256-GCM envelope), never in clear. */
  readonly secretsEnc: string | null;
  /** Masked secrets for display: setting name -> "****abcd". */
  readonly secretHints: Readonly<Record<string, string>>;
  readonly events: readonly string[];
  readonly transformations: readonly Transformation[];
  readonly batching: BatchingOptions;
  readonly status: CurrentStatus;
  readonly statusReason: string | null;
  readonly statusSince: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly launchedAt: number | null;
  /** Incremented by every write: status changes and updates are compare-and-set on it. */
  readonly version: number;
}

/** Delivery progress of one Current, kept by the store. */
export interface CurrentProgress {
  /** Every selected event with seq <= ackedSeq was delivered (or dead-lettered, or expired). */
  readonly ackedSeq: number;
  readonly delivered: number;
  readonly failedAttempts: number;
  readonly deadLettered: number;
  readonly expired: number;
  /** Property keys or values a partner's encoding had to cut to its limits (Heap: 1,024 characters). */
  readonly valuesCut: number;
  readonly lastDeliveredAt: number | null;
  readonly lastError: string | null;
  readonly lastErrorAt: number | null;
}

/** A change to a Current's progress: counters are added, the rest replaced when given. */
export interface ProgressUpdate {
  readonly currentId: string;
  /** JetStream mode: `ackedSeq` is this partition's (of `of`); the Current's own position is the lowest of them. */
  readonly partition?: { readonly index: number; readonly of: number };
  readonly ackedSeq?: number;
  readonly deliveredDelta?: number;
  readonly failedAttemptsDelta?: number;
  readonly deadLetteredDelta?: number;
  readonly expiredDelta?: number;
  readonly valuesCutDelta?: number;
  readonly lastDeliveredAt?: number;
  readonly lastError?: string | null;
  readonly lastErrorAt?: number;
}
