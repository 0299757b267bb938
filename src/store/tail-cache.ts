import type { ReadEventsQuery, ReadEventsResult, StoredEvent } from "./port.js";
import { readResult, readUpper } from "./read-window.js";

export interface CachedEvent extends StoredEvent {
  readonly workspace: string;
}

/**
 * The newest stored events, kept in memory in seq order, so that Currents keeping up with
 * ingest read them without a database query, and many Currents selecting the same events
 * share one copy (fan-out costs a filter, not a scan each). Bounded by bytes and count;
 * a read that starts before the oldest cached event goes to the store.
 */
export class TailCache {
  #items: CachedEvent[] = [];
  #first = 0;
  #bytes = 0;
  readonly #typeSets = new WeakMap<readonly string[], Set<string>>();

  constructor(private readonly maxBytes: number, private readonly maxEvents: number) {}

  /** Seq of the newest cached event (0 when empty). */
  get newest(): number {
    return this.#items.length > this.#first ? (this.#items[this.#items.length - 1] as CachedEvent).seq : 0;
  }

  get oldest(): number {
    return this.#items.length > this.#first ? (this.#items[this.#first] as CachedEvent).seq : 0;
  }

  /** Adds the next stored event; a gap in seqs starts the cache over from it. */
  push(e: CachedEvent): void {
    const newest = this.newest;
    if (newest !== 0 && e.seq !== newest + 1) this.clear();
    this.#items.push(e);
    this.#bytes += e.body.length;
    while (this.#items.length - this.#first > this.maxEvents || (this.#bytes > this.maxBytes && this.#items.length - this.#first > 1)) {
      this.#bytes -= (this.#items[this.#first] as CachedEvent).body.length;
      this.#items[this.#first++] = undefined as unknown as CachedEvent;
    }
    if (this.#first > 4096 && this.#first * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#first);
      this.#first = 0;
    }
  }

  clear(): void {
    this.#items = [];
    this.#first = 0;
    this.#bytes = 0;
  }

  /**
   * Answers a read when every event after `afterSeq` up to `head` is cached; otherwise
   * undefined (the caller asks the store).
   */
  read(q: ReadEventsQuery, head: number): ReadEventsResult | undefined {
    const oldest = this.oldest;
    if (oldest === 0 || q.afterSeq < oldest - 1 || this.newest !== head) return undefined;
    const upper = readUpper(q, head);
    let types = this.#typeSets.get(q.types);
    if (!types) this.#typeSets.set(q.types, (types = new Set(q.types)));
    const events: StoredEvent[] = [];
    const end = this.#first + (upper - oldest);
    for (let i = this.#first + (q.afterSeq + 1 - oldest); i <= end; i++) {
      const e = this.#items[i] as CachedEvent;
      if (e.workspace !== q.workspace || !types.has(e.type)) continue;
      events.push(e);
      if (events.length >= q.limit) break;
    }
    return readResult(q, events, upper);
  }
}
