import type { Logger } from "pino";
import type { AttemptResult } from "../delivery/attempt-outcome.js";
import type { CurrentRecord } from "./model.js";

/** The failing-state rules of SPEC section 5, as data. */
export interface FailingRules {
  /** Probes of a failing Current happen every `probeMinMs`..`probeMaxMs` (random in between). */
  readonly probeMinMs: number;
  readonly probeMaxMs: number;
  /** A Current failing continuously this long becomes disabled. */
  readonly disableAfterMs: number;
}

export const defaultFailingRules: FailingRules = {
  probeMinMs: 120_000,
  probeMaxMs: 300_000,
  disableAfterMs: 5 * 86_400_000,
};

export interface FailingMonitorDeps {
  readonly listFailing: () => Promise<CurrentRecord[]>;
  readonly probe: (current: CurrentRecord) => Promise<AttemptResult>;
  readonly recover: (currentId: string, reason: string) => Promise<void>;
  readonly disable: (currentId: string, reason: string) => Promise<void>;
  readonly logger: Logger;
  readonly now: () => number;
  readonly random: () => number;
  readonly rules?: FailingRules;
}

/**
 * Watches failing Currents. Each `tick()` (every 15 s in the service; tests call it with an
 * injected clock): a Current failing for `disableAfterMs` becomes disabled; otherwise, when
 * its probe is due, the connection check (`{"events":[]}` with the credentials) is sent,
 * and a 2xx answer makes it active again (its backlog is then delivered).
 */
export class FailingMonitor {
  readonly #d: FailingMonitorDeps;
  readonly #rules: FailingRules;
  readonly #nextProbeAt = new Map<string, number>();
  #running = false;

  constructor(deps: FailingMonitorDeps) {
    this.#d = deps;
    this.#rules = deps.rules ?? defaultFailingRules;
  }

  #delay(): number {
    const { probeMinMs, probeMaxMs } = this.#rules;
    return probeMinMs + Math.round((probeMaxMs - probeMinMs) * this.#d.random());
  }

  /** When the next probe of a Current is due (for tests and the dashboard). */
  nextProbeAt(currentId: string): number | undefined {
    return this.#nextProbeAt.get(currentId);
  }

  async tick(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      const failing = await this.#d.listFailing();
      const ids = new Set(failing.map((c) => c.id));
      for (const id of this.#nextProbeAt.keys()) if (!ids.has(id)) this.#nextProbeAt.delete(id);
      for (const c of failing) await this.#check(c);
    } finally {
      this.#running = false;
    }
  }

  async #check(c: CurrentRecord): Promise<void> {
    const now = this.#d.now();
    if (now - c.statusSince >= this.#rules.disableAfterMs) {
      this.#nextProbeAt.delete(c.id);
      await this.#d.disable(c.id, `failing continuously since ${new Date(c.statusSince).toISOString()} (${c.statusReason ?? "unknown reason"})`);
      return;
    }
    const due = this.#nextProbeAt.get(c.id);
    if (due === undefined) {
      this.#nextProbeAt.set(c.id, Math.max(now, c.statusSince) + this.#delay());
      return;
    }
    if (now < due) return;
    const result = await this.#d.probe(c);
    if (result.kind === "answered" && result.status >= 200 && result.status < 300) {
      this.#nextProbeAt.delete(c.id);
      await this.#d.recover(c.id, `a connection check succeeded (HTTP ${result.status})`);
      return;
    }
    const why = result.kind === "answered" ? `HTTP ${result.status}` : result.error;
    this.#d.logger.info({ currentId: c.id, result: why }, "probe of a failing Current did not succeed");
    this.#nextProbeAt.set(c.id, this.#d.now() + this.#delay());
  }
}
