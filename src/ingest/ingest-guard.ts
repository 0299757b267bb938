import { statfs } from "node:fs/promises";
import { ClientError } from "../errors.js";
import type { Store } from "../store/port.js";

export interface IngestGuardOptions {
  readonly store: Store;
  /** Ingest answers 429 while more events than this wait for the workspace's active Currents. */
  readonly maxBacklogEvents: number;
  /** The embedded store's directory, and the free space kept in reserve there (507 below it). */
  readonly dataDir?: string;
  readonly minFreeDiskBytes: number;
  readonly now: () => number;
  /** How long a reading is reused. @defaultValue 500 */
  readonly cacheMs?: number;
}

/**
 * Says when ingest must wait, from cached readings (never a scan per request):
 * - `429` while the events **not yet delivered** by a workspace's active Currents exceed the
 *   backlog limit: the newest seq minus the slowest active Current's position. Events
 *   retained after delivery never count, and a workspace without active Currents never waits
 *   here (retention bounds what it keeps). The count is an upper bound (it includes events of
 *   types or workspaces the slowest Current does not select), read from positions only.
 * - `507` while the data directory's free space is under its reserve (embedded store).
 */
export class IngestGuard {
  readonly #pending = new Map<string, { at: number; value: Promise<number> }>();
  #disk: { at: number; value: Promise<number | undefined> } | undefined;

  constructor(private readonly o: IngestGuardOptions) {}

  async check(workspace: string): Promise<void> {
    const [pending, free] = await Promise.all([this.pending(workspace), this.freeBytes()]);
    if (free !== undefined && free < this.o.minFreeDiskBytes) {
      throw new ClientError(507, "insufficient_storage",
        `the data directory has ${Math.floor(free / 1_048_576)} MB free, under its reserve of ${Math.floor(this.o.minFreeDiskBytes / 1_048_576)} MB; nothing was stored; retry later`).retryAfter(30);
    }
    if (pending >= this.o.maxBacklogEvents) {
      throw new ClientError(429, "backlog_full",
        `${pending} events wait for this workspace's Currents, over the backlog limit of ${this.o.maxBacklogEvents}; retry later`).retryAfter(5);
    }
  }

  /** Events stored after the slowest active Current of the workspace (0 when it has none). */
  pending(workspace: string): Promise<number> {
    const now = this.o.now();
    const cached = this.#pending.get(workspace);
    if (cached && now - cached.at < (this.o.cacheMs ?? 500)) return cached.value;
    const value = this.#readPending(workspace);
    this.#pending.set(workspace, { at: now, value });
    value.catch(() => this.#pending.delete(workspace));
    return value;
  }

  async #readPending(workspace: string): Promise<number> {
    const active = (await this.o.store.config.listCurrents(workspace)).filter((c) => c.status === "active");
    if (active.length === 0) return 0;
    const positions = await Promise.all(active.map(async (c) => (await this.o.store.config.getProgress(c.id))?.ackedSeq ?? 0));
    const slowest = Math.min(...positions);
    const events = this.o.store.events;
    // JetStream mode numbers events sparsely (message x 1024 + index): count them instead.
    return events.eventsAfter ? events.eventsAfter(slowest) : Math.max(0, (await events.headSeq()) - slowest);
  }

  freeBytes(): Promise<number | undefined> {
    const dir = this.o.dataDir;
    if (dir === undefined || this.o.minFreeDiskBytes <= 0) return Promise.resolve(undefined);
    const now = this.o.now();
    if (this.#disk && now - this.#disk.at < (this.o.cacheMs ?? 500)) return this.#disk.value;
    const value = statfs(dir).then((s) => s.bavail * s.bsize, () => undefined);
    this.#disk = { at: now, value };
    return value;
  }
}
