import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { CurrentRecord } from "../currents/model.js";
import type { Store } from "../store/port.js";

export interface OwnedWorkers {
  /** The units (Currents, or in JetStream mode (Current, partition) pairs) delivered by this process, with their Current as it was when their worker started. */
  running(): ReadonlyMap<string, CurrentRecord>;
  /** Throws when the worker cannot start (its lease is then let go, and the sync goes on). */
  startWorker(current: CurrentRecord, unit: string): Promise<void>;
  stopWorker(currentId: string, graceMs: number): Promise<void>;
  /** A worker could not start: make it visible (log, the Current's lastError). */
  startFailed(currentId: string, error: unknown): void;
}

/** A Current whose worker could not start here is not claimed again for this long. */
const START_RETRY_MS = 10_000;

/**
 * Which process delivers which Current. Every process renews a membership lease; each
 * active Current is delivered by the one process holding its lease (`current:<id>`), so
 * two live processes never send a Current's events at once and its limits (batches in
 * flight) hold across processes. Currents are spread evenly: a process takes at most its
 * fair share and lets go of extras when others join. A process that dies stops renewing;
 * its leases expire after `leaseMs` and the others take its Currents over from their
 * acknowledged positions. A process that cannot renew a lease (database unreachable)
 * stops that Current's worker before the lease can expire: it fences itself.
 */
export class Ownership {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #renewedAt = new Map<string, number>();
  readonly #failedStart = new Map<string, number>();
  #members = 1;
  /** Bumped when a sync gives up waiting: a pass still running after that claims and starts nothing more. */
  #pass = 0;

  /**
   * `unitsOf`: the units of work of a Current, each with its own lease (default: the Current
   * itself; JetStream mode: one per partition, so one Current spreads over every process).
   */
  constructor(private readonly o: { store: Store; leaseMs: number; logger: Logger; now: () => number; unitsOf?: (currentId: string) => string[] }) {}

  /** Live processes seen at the last sync (this one included). */
  /** Deleted Currents: never claimed again by this process. */
  readonly #gone = new Set<string>();
  /** Lease requests on their way to the store, by Current. */
  readonly #claiming = new Map<string, Promise<boolean>>();

  get members(): number {
    return this.#members;
  }

  /** Takes or renews a unit's lease (a Current's, or a (Current, partition)'s). The renewal counts from when it was asked, not answered. */
  async claim(unit: string): Promise<boolean> {
    if (this.#gone.has(unit)) return false;
    const askedAt = this.o.now();
    const asking = this.o.store.leases.acquire(`current:${unit}`, this.owner, this.o.leaseMs);
    this.#claiming.set(unit, asking);
    try {
      const got = await asking;
      if (got && this.#gone.has(unit)) {
        await this.release(unit).catch(() => undefined);
        return false;
      }
      if (got) this.#renewedAt.set(unit, askedAt);
      return got;
    } finally {
      if (this.#claiming.get(unit) === asking) this.#claiming.delete(unit);
    }
  }

  /**
   * Lets go of a deleted Current for good: no claim of it succeeds from now on, and a claim
   * still on its way to the store (a renewal asked before the delete) is waited for, so that
   * no lease of it is left once this returns.
   */
  async forget(unit: string): Promise<void> {
    this.#gone.add(unit);
    if (this.#gone.size > 10_000) this.#gone.delete(this.#gone.values().next().value as string);
    await this.#claiming.get(unit)?.catch(() => undefined);
    await this.release(unit);
  }

  /**
   * True while this process's lease on the Current is surely still its own (renewed less than
   * 80 % of the lease time ago): a worker checks it before every attempt, so a process cut
   * off from the store stops sending before another may take the Current over.
   */
  holds(unit: string): boolean {
    return (this.#renewedAt.get(unit) ?? -Infinity) >= this.o.now() - this.o.leaseMs * 0.8;
  }

  async release(unit: string): Promise<void> {
    this.#renewedAt.delete(unit);
    await this.o.store.leases.release(`current:${unit}`, this.owner);
  }

  /** True when this process holds the lease of a periodic job (retention, probes...) for now. */
  async job(name: string, everyMs: number): Promise<boolean> {
    return this.o.store.leases.acquire(`job:${name}`, this.owner, Math.max(everyMs * 2, this.o.leaseMs));
  }

  /** Renews, takes and lets go of Currents; stops workers whose lease could not be renewed. */
  async sync(workers: OwnedWorkers): Promise<void> {
    // A store that hangs must not hold the fencing below back: give up waiting at half the lease.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from the store within ${Math.round(this.o.leaseMs / 2)} ms`)), this.o.leaseMs / 2);
    });
    const pass = ++this.#pass;
    const balancing = this.#balance(workers, () => pass === this.#pass);
    balancing.catch(() => undefined);
    try {
      await Promise.race([balancing, timeout]);
    } catch (error) {
      this.#pass++; // the pass still running (if it hangs) stops where it is
      this.o.logger.warn({ err: { message: (error as Error).message } }, "could not renew delivery leases; will retry");
    } finally {
      clearTimeout(timer);
    }
    const deadline = this.o.now() - this.o.leaseMs * 0.8;
    for (const id of workers.running().keys()) {
      if ((this.#renewedAt.get(id) ?? 0) < deadline) {
        this.o.logger.warn({ currentId: id }, "lease not renewed in time: stopping this Current's delivery here (another process may take it over)");
        this.#renewedAt.delete(id);
        await workers.stopWorker(id, 0);
      }
    }
  }

  async #balance(workers: OwnedWorkers, current: () => boolean): Promise<void> {
    const { store, leaseMs } = this.o;
    await store.leases.acquire(`member:${this.owner}`, this.owner, leaseMs);
    this.#members = Math.max(1, (await store.leases.live("member:")).length);
    const active = (await store.config.listCurrents()).filter((c) => c.status === "active");
    const byId = new Map(active.flatMap((c) => (this.o.unitsOf?.(c.id) ?? [c.id]).map((u) => [u, c] as const)));
    const fair = Math.ceil(byId.size / this.#members);
    for (const [id, started] of workers.running()) {
      if (!current()) return;
      const now = byId.get(id);
      if (!now) {
        await workers.stopWorker(id, leaseMs / 3);
        await this.release(id);
      } else if (!(await this.#renew(id, current, workers))) {
        await workers.stopWorker(id, 0);
      } else if (now.updatedAt !== started.updatedAt) {
        // Changed through another process: start again with the new settings.
        await workers.stopWorker(id, leaseMs / 3);
        await this.#start(workers, now, id, current);
      }
    }
    const mine = [...workers.running().keys()];
    for (const id of mine.slice(fair)) {
      await workers.stopWorker(id, leaseMs / 3);
      await this.release(id);
    }
    for (const [unit, c] of byId) {
      if (!current() || workers.running().size >= fair) break;
      if (workers.running().has(unit) || (this.#failedStart.get(unit) ?? 0) > this.o.now()) continue;
      if (await this.claim(unit)) await this.#start(workers, c, unit, current);
    }
  }

  /**
   * Renews a running Current's lease. A pass that was given up on (the store answered late)
   * may see its renewal land after the lease was let go meanwhile (the Current deleted or
   * stopped here): it lets it go again instead of holding a Current nobody delivers.
   */
  async #renew(id: string, current: () => boolean, workers: OwnedWorkers): Promise<boolean> {
    const got = await this.claim(id);
    if (got && !current() && !workers.running().has(id)) {
      await this.release(id).catch(() => undefined);
      return true; // not this pass's business any more: the current pass decides
    }
    return got;
  }

  /** Starts a claimed unit's worker; when it cannot start, lets the lease go and moves on. */
  async #start(workers: OwnedWorkers, c: CurrentRecord, unit: string, current: () => boolean = () => true): Promise<void> {
    if (!current()) {
      await this.release(unit).catch(() => undefined);
      return;
    }
    try {
      await workers.startWorker(c, unit);
      this.#failedStart.delete(unit);
    } catch (error) {
      this.#failedStart.set(unit, this.o.now() + START_RETRY_MS);
      workers.startFailed(c.id, error);
      await this.release(unit).catch(() => undefined);
    }
  }

  /** Lets go of everything (graceful stop): others take over at once instead of after expiry. */
  async releaseAll(ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.release(id).catch(() => undefined);
    await this.o.store.leases.release(`member:${this.owner}`, this.owner).catch(() => undefined);
  }
}
