import type { AppendOutcome, NewEvent } from "./port.js";

export interface PendingAppend {
  readonly events: readonly NewEvent[];
  readonly now: number;
  resolve(outcomes: AppendOutcome[]): void;
  reject(error: unknown): void;
}

/**
 * Group commit for appends: every request that arrives while a group is being written goes
 * into the next group, written in one go by `write`. When a group fails, `failed` decides what
 * each of its requests gets (by default, the error).
 */
export class AppendGroups {
  #pending: PendingAppend[] = [];
  #flushing: Promise<void> | undefined;

  constructor(
    private readonly write: (batch: PendingAppend[]) => Promise<AppendOutcome[][]>,
    private readonly failed: (batch: PendingAppend[], error: unknown) => Promise<void> = async (batch, error) => {
      for (const p of batch) p.reject(error);
    },
  ) {}

  append(events: readonly NewEvent[], now: number): Promise<AppendOutcome[]> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ events, now, resolve, reject });
      this.#flushing ??= this.#flushLoop();
    });
  }

  async #flushLoop(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
      try {
        const outcomes = await this.write(batch);
        batch.forEach((p, i) => p.resolve(outcomes[i] as AppendOutcome[]));
      } catch (error) {
        await this.failed(batch, error);
      }
    }
    this.#flushing = undefined;
  }

  /** Resolves once every append requested so far is written or failed (before closing). */
  async drain(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }
}
