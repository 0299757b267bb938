import type { RateLimit } from "../partners/define-partner.js";

/** Events sent at one time, charged to the app or to a key. */
interface Charge {
  at: number;
  readonly n: number;
  readonly log: WindowLog;
}

/** Charges of one window: oldest first; `pending` ones (sent, not answered yet) count until answered. */
class WindowLog {
  readonly #entries: Charge[] = [];
  #head = 0;
  #sum = 0;

  used(now: number, windowMs: number): number {
    while (this.#head < this.#entries.length && (this.#entries[this.#head] as Charge).at <= now - windowMs) {
      this.#sum -= (this.#entries[this.#head] as Charge).n;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries.splice(0, this.#head);
      this.#head = 0;
    }
    return this.#sum;
  }

  /** When the oldest charge leaves the window (Infinity while it is pending). */
  freesAt(windowMs: number): number {
    const oldest = this.#entries[this.#head];
    return oldest ? oldest.at + windowMs : 0;
  }

  add(at: number, n: number): Charge {
    const charge = { at, n, log: this };
    this.#entries.push(charge);
    this.#sum += n;
    return charge;
  }

  /** A pending charge was stamped with its answer's time: back in time order. */
  resort(): void {
    const live = this.#entries.slice(this.#head).sort((a, b) => a.at - b.at);
    this.#entries.length = 0;
    this.#entries.push(...live);
    this.#head = 0;
  }

  get empty(): boolean {
    return this.#head >= this.#entries.length;
  }
}

/** What one batch was charged, to stamp once it is answered. */
export type BatchCharge = readonly Charge[];

/**
 * Client-side rate limits over a sliding window (a minute; shorter in tests and the bench):
 * the app's events, and each key's (Heap's identity). A batch is charged when it is cut and
 * counts as "now" until it is answered, then from its answer's time: a request can never
 * land at the partner inside the window of one it was allowed after, whatever the latency.
 */
export class RateGate {
  readonly #app = new WindowLog();
  readonly #keys = new Map<string, WindowLog>();
  readonly #perWindow: number;
  readonly #perKeyWindow: number;
  #sweptAt = 0;

  constructor(readonly limit: RateLimit, readonly windowMs = 60_000) {
    const scale = windowMs / 60_000;
    this.#perWindow = Math.max(1, Math.floor(limit.perMinute * scale));
    this.#perKeyWindow = limit.perKeyPerMinute === undefined ? Infinity : Math.max(1, Math.floor(limit.perKeyPerMinute * scale));
  }

  /** Keys with charges in memory (bounded: keys with nothing in the window are forgotten). */
  get trackedKeys(): number {
    return this.#keys.size;
  }

  /** How many more events the app may send now. */
  appRoom(now: number): number {
    return Math.max(0, this.#perWindow - this.#app.used(now, this.windowMs));
  }

  /** How many more events `key` may send now. */
  keyRoom(key: string, now: number): number {
    const log = this.#keys.get(key);
    return log ? Math.max(0, this.#perKeyWindow - log.used(now, this.windowMs)) : this.#perKeyWindow;
  }

  /** When some room may open again for the app or for one of `keys` (Infinity: when a batch is answered). */
  nextRoomAt(now: number, keys: Iterable<string>): number {
    let at = this.appRoom(now) > 0 ? Infinity : this.#app.freesAt(this.windowMs);
    for (const k of keys) at = Math.min(at, this.#keys.get(k)?.freesAt(this.windowMs) ?? now);
    return at;
  }

  /** Charges a batch cut now: `n` events in all, `perKey` of them per key. Pending until `answered`. */
  charge(n: number, perKey: ReadonlyMap<string, number>): BatchCharge {
    const charges = [this.#app.add(Infinity, n)];
    for (const [key, count] of perKey) {
      let log = this.#keys.get(key);
      if (!log) this.#keys.set(key, (log = new WindowLog()));
      charges.push(log.add(Infinity, count));
    }
    return charges;
  }

  /** The batch was answered (or given up): its charges count from now. */
  answered(charges: BatchCharge, now: number): void {
    for (const c of charges) {
      c.at = now;
      c.log.resort();
    }
    this.#sweep(now);
  }

  /** Forgets keys with nothing in the window (bounded memory with many identities). */
  #sweep(now: number): void {
    if (now - this.#sweptAt < this.windowMs) return;
    this.#sweptAt = now;
    for (const [k, log] of this.#keys) if (log.used(now, this.windowMs) === 0 && log.empty) this.#keys.delete(k);
  }
}
