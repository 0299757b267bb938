import { randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { request } from "undici";
import { builderPaths, type EventFields } from "./events.generated.js";

/**
 * A typed Node client of the Currents ingest API (`import { CurrentsClient } from "currents/client"`):
 * batching (at most 1,000 events and 5 MB a request, flushed every `flushIntervalMs`), gzip,
 * ids and times filled in when missing, retries of 429/5xx (503, 507...) and network errors
 * honouring `Retry-After` with jitter, and a bounded in-memory queue.
 */

/** One catalog event: `event_type` picks the fields the compiler checks; `id` and `time` are filled in when missing. */
export type CatalogEvent<T extends keyof EventFields = keyof EventFields> = T extends keyof EventFields
  ? { event_type: T; id?: string; time?: number } & EventFields[T]
  : never;

type Paths = typeof builderPaths;
/** `client.track.email.open({...})`: one builder per event type, by channel and action. */
export type Builders<P = Paths> = {
  readonly [K in keyof P]: P[K] extends keyof EventFields ? (fields: Omit<CatalogEvent<P[K]>, "event_type">) => void : Builders<P[K]>;
};

export interface CurrentsClientOptions {
  /** The Currents base URL, e.g. https://currents.example.com */
  readonly url: string;
  readonly ingestKey: string;
  /** @defaultValue 1_000 (the most a request may carry) */
  readonly maxBatchEvents?: number;
  /** Uncompressed bytes of a request. @defaultValue 5 MB */
  readonly maxBatchBytes?: number;
  /** Queued events are sent at least this often. @defaultValue 1_000 */
  readonly flushIntervalMs?: number;
  /** @defaultValue true */
  readonly gzip?: boolean;
  /** Events queued at most; `send` throws a QueueFullError beyond. @defaultValue 100_000 */
  readonly maxQueueEvents?: number;
  /** Attempts of one request before its events are given up (reported to `onError`). @defaultValue 10 */
  readonly maxAttempts?: number;
  /** First retry delay, doubled each time up to `maxDelayMs` (with ±20 % jitter); a Retry-After wins when longer. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** @defaultValue 30_000 */
  readonly timeoutMs?: number;
  /** Events refused (400: each one's reason) or given up after `maxAttempts`, when no `flush()` is awaiting them. */
  readonly onError?: (error: CurrentsClientError) => void;
}

export interface FlushResult {
  accepted: number;
  duplicates: number;
  rejected: Array<{ id?: string; error: string }>;
}

export class CurrentsClientError extends Error {
  constructor(message: string, readonly status: number | null, readonly rejected: Array<{ id?: string; error: string }> = []) {
    super(message);
  }
}

/** The queue holds `maxQueueEvents` already: flush (or slow down) before sending more. */
export class QueueFullError extends Error {}

const RETRY = new Set([408, 425, 429, 500, 502, 503, 504, 507]);

export class CurrentsClient {
  readonly track: Builders;
  readonly #o: Required<Omit<CurrentsClientOptions, "onError">> & Pick<CurrentsClientOptions, "onError">;
  #queue: Array<Record<string, unknown>> = [];
  #timer: NodeJS.Timeout | undefined;
  #sending: Promise<FlushResult> = Promise.resolve({ accepted: 0, duplicates: 0, rejected: [] });
  #closed = false;
  /** What the drains since the last `flush()` answer stored (background flushes included). */
  #done: FlushResult = { accepted: 0, duplicates: 0, rejected: [] };

  constructor(options: CurrentsClientOptions) {
    if (!/^https?:\/\//.test(options.url)) throw new TypeError(`url must start with http:// or https://, got "${options.url}"`);
    if (!options.ingestKey) throw new TypeError("ingestKey is required");
    this.#o = {
      maxBatchEvents: 1_000, maxBatchBytes: 5 * 1024 * 1024, flushIntervalMs: 1_000, gzip: true, maxQueueEvents: 100_000, maxAttempts: 10,
      baseDelayMs: 200, maxDelayMs: 30_000, timeoutMs: 30_000, ...options, url: options.url.replace(/\/+$/, ""),
    };
    this.track = this.#builders(builderPaths) as Builders;
  }

  #builders(paths: object): object {
    return Object.fromEntries(Object.entries(paths).map(([k, v]) => [k, typeof v === "string" ? (fields: object) => this.send({ ...fields, event_type: v } as CatalogEvent) : this.#builders(v as object)]));
  }

  /** Events queued, not yet acknowledged. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queues events (ids and times filled in); they go out in the next batch. Throws QueueFullError when the queue is full. */
  send(events: CatalogEvent | readonly CatalogEvent[]): void {
    if (this.#closed) throw new Error("the client is closed");
    const list = (Array.isArray(events) ? events : [events]) as CatalogEvent[];
    if (this.#queue.length + list.length > this.#o.maxQueueEvents) {
      throw new QueueFullError(`the queue holds ${this.#queue.length} events (maxQueueEvents ${this.#o.maxQueueEvents}): await flush() before sending ${list.length} more`);
    }
    const now = Math.floor(Date.now() / 1000);
    for (const e of list) this.#queue.push({ ...e, id: e.id ?? randomUUID(), time: e.time ?? now });
    if (this.#queue.length >= this.#o.maxBatchEvents) void this.#send().catch(() => undefined);
    else this.#timer ??= setTimeout(() => { this.#timer = undefined; void this.#send().catch(() => undefined); }, this.#o.flushIntervalMs);
  }

  /**
   * Sends everything queued now, in order; resolves once Currents stored it, with what was
   * stored or refused (listed in `rejected`) since the last flush() resolved, background
   * sends included.
   */
  async flush(): Promise<FlushResult> {
    await this.#send();
    const done = this.#done;
    this.#done = { accepted: 0, duplicates: 0, rejected: [] };
    return done;
  }

  #send(): Promise<FlushResult> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const run = this.#sending.catch(() => undefined).then(() => this.#drain());
    this.#sending = run;
    return run;
  }

  /** Flushes and stops: nothing can be sent after. */
  async close(): Promise<FlushResult> {
    const result = await this.flush();
    this.#closed = true;
    return result;
  }

  async #drain(): Promise<FlushResult> {
    const total: FlushResult = { accepted: 0, duplicates: 0, rejected: [] };
    while (this.#queue.length > 0) {
      const batch = this.#cut();
      const r = await this.#post(batch);
      this.#queue.splice(0, batch.length);
      for (const t of [total, this.#done]) {
        t.accepted += r.accepted;
        t.duplicates += r.duplicates;
        t.rejected.push(...r.rejected);
      }
    }
    if (total.rejected.length > 0) this.#o.onError?.(new CurrentsClientError(`${total.rejected.length} events were refused: ${total.rejected[0]?.error}`, 400, total.rejected));
    return total;
  }

  /** The head of the queue that fits one request. */
  #cut(): Array<Record<string, unknown>> {
    let bytes = 12;
    const batch: Array<Record<string, unknown>> = [];
    for (const e of this.#queue) {
      if (batch.length >= this.#o.maxBatchEvents) break;
      const size = Buffer.byteLength(JSON.stringify(e)) + 1;
      if (batch.length > 0 && bytes + size > this.#o.maxBatchBytes) break;
      bytes += size;
      batch.push(e);
    }
    return batch;
  }

  async #post(batch: Array<Record<string, unknown>>): Promise<FlushResult> {
    const json = JSON.stringify({ events: batch });
    const body = this.#o.gzip ? gzipSync(json) : json;
    const headers: Record<string, string> = { authorization: `Bearer ${this.#o.ingestKey}`, "content-type": "application/json", ...(this.#o.gzip ? { "content-encoding": "gzip" } : {}) };
    let last = "";
    for (let attempt = 1; attempt <= this.#o.maxAttempts; attempt++) {
      let status: number | null = null;
      let retryAfter: string | undefined;
      try {
        const res = await request(`${this.#o.url}/v1/events`, { method: "POST", headers, body, headersTimeout: this.#o.timeoutMs, bodyTimeout: this.#o.timeoutMs });
        status = res.statusCode;
        const ra = res.headers["retry-after"];
        retryAfter = Array.isArray(ra) ? ra[0] : ra;
        const text = await res.body.text();
        const answer = (text ? JSON.parse(text) : {}) as { accepted?: number; duplicates?: number; rejected?: Array<{ index: number; id?: string; error: string }>; error?: { message?: string } };
        if (status === 200 || (status === 400 && Array.isArray(answer.rejected))) {
          return { accepted: answer.accepted ?? 0, duplicates: answer.duplicates ?? 0, rejected: (answer.rejected ?? []).map((r) => ({ id: r.id, error: r.error })) };
        }
        last = `HTTP ${status}: ${answer.error?.message ?? text.slice(0, 200)}`;
        if (!RETRY.has(status)) {
          // e.g. 401 (a wrong key): the events stay queued, and every flush says so until it is fixed.
          const refused = new CurrentsClientError(`Currents refused the request (the events stay queued): ${last}`, status);
          this.#o.onError?.(refused);
          throw refused;
        }
      } catch (error) {
        if (error instanceof CurrentsClientError) throw error;
        last = status === null ? `network error: ${(error as Error).message}` : last;
      }
      if (attempt < this.#o.maxAttempts) await new Promise((r) => setTimeout(r, this.#delay(attempt, retryAfter)));
    }
    const error = new CurrentsClientError(`gave up after ${this.#o.maxAttempts} attempts: ${last}`, null);
    this.#o.onError?.(error);
    throw error;
  }

  #delay(attempt: number, retryAfter: string | undefined): number {
    const backoff = Math.min(this.#o.maxDelayMs, this.#o.baseDelayMs * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4);
    const seconds = retryAfter !== undefined && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : retryAfter ? Date.parse(retryAfter) - Date.now() : 0;
    return Math.max(backoff, Number.isFinite(seconds) ? Math.min(seconds, 3_600_000) : 0);
  }
}
