import pg from "pg";
import type { Logger } from "pino";
import { APPENDED_CHANNEL } from "./event-log.js";

/**
 * Listens (LISTEN/NOTIFY) for appends made by any process, on a connection of its own that
 * comes back by itself after the database restarts. A missed notice only delays delivery
 * until the Current's next poll (its linger time), never loses anything.
 */
export class AppendedListener {
  readonly #listeners = new Set<(workspace: string) => void>();
  #client: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(private readonly config: pg.ClientConfig, private readonly logger?: Logger) {}

  subscribe(listener: (workspace: string) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#client && !this.#retry) void this.#connect();
    return () => this.#listeners.delete(listener);
  }

  async #connect(): Promise<void> {
    this.#retry = undefined;
    if (this.#closed) return;
    const client = new pg.Client(this.config);
    client.on("notification", (n) => {
      if (n.channel === APPENDED_CHANNEL && n.payload) for (const l of this.#listeners) l(n.payload);
    });
    const lost = () => {
      if (this.#client !== client) return;
      this.#client = undefined;
      client.end().catch(() => undefined);
      if (!this.#closed) this.#retry = setTimeout(() => void this.#connect(), 1_000);
    };
    client.on("error", (err) => {
      this.logger?.warn({ err: { message: err.message } }, "lost the database notification connection; reconnecting");
      lost();
    });
    client.on("end", lost);
    this.#client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${APPENDED_CHANNEL}`);
    } catch {
      lost();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    const c = this.#client;
    this.#client = undefined;
    await c?.end().catch(() => undefined);
  }
}
