import type { Logger } from "pino";

/**
 * What a running service opened, closed last-in first-out; and its periodic jobs, each a
 * named timer whose failures are logged (never thrown at the event loop) and which never
 * runs twice at once.
 */
export class Closers {
  readonly #fns: Array<{ name: string; fn: () => Promise<unknown> | unknown }> = [];
  #closed = false;

  constructor(private readonly logger: Logger) {}

  add(name: string, fn: () => Promise<unknown> | unknown): void {
    this.#fns.push({ name, fn });
  }

  /** Runs `job` every `everyMs` until closed. */
  every(name: string, everyMs: number, job: () => Promise<unknown>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      job().catch((err: unknown) => this.logger.error({ err, job: name }, `${name} failed; it runs again in ${everyMs} ms`))
        .finally(() => { running = false; });
    }, everyMs);
    timer.unref();
    this.add(name, () => clearInterval(timer));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes everything, newest first; a failing closer is logged and the others still run. */
  async closeAll(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const { name, fn } of this.#fns.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        this.logger.error({ err, step: name }, "error while stopping");
      }
    }
  }
}
