import type { Logger } from "pino";
import type { NoticeKind } from "../notices/notifier.js";
import type { Store } from "../store/port.js";
import type { CurrentRecord } from "./model.js";

/** A Current's alert thresholds; null turns one off. */
export interface AlertRules {
  /** The oldest event waiting longer than this (minutes). */
  readonly oldestPendingMinutes: number | null;
  /** More than this share of the attempts of the last 15 minutes did not deliver (percent; at least 10 attempts). */
  readonly errorRatePercent: number | null;
  /** At least this many dead letters held. */
  readonly deadLetters: number | null;
}

/** A quarter of an hour behind, a quarter of the attempts failing, or a pile of 100 dead letters (the first ones already get the hourly dead-letter notice). */
export const defaultAlertRules: AlertRules = { oldestPendingMinutes: 15, errorRatePercent: 25, deadLetters: 100 };

export type AlertKind = "oldest_pending" | "error_rate" | "dead_letters";
export const ALERT_KINDS: readonly AlertKind[] = ["oldest_pending", "error_rate", "dead_letters"];
export const ERROR_RATE_WINDOW_MS = 15 * 60_000;
export const ERROR_RATE_MIN_ATTEMPTS = 10;

export interface AlertStatus {
  readonly kind: AlertKind;
  /** null: turned off. */
  readonly threshold: number | null;
  /** The last value measured (minutes, percent or dead letters); null before the first check or without enough attempts. */
  readonly value: number | null;
  readonly firing: boolean;
  /** When it last crossed or recovered. */
  readonly since: number | null;
}

interface Saved {
  readonly rules?: AlertRules;
  readonly state?: Partial<Record<AlertKind, { firing: boolean; since: number; value: number | null }>>;
}

const RULE_OF: Record<AlertKind, keyof AlertRules> = { oldest_pending: "oldestPendingMinutes", error_rate: "errorRatePercent", dead_letters: "deadLetters" };
const WHAT: Record<AlertKind, (v: number, t: number) => string> = {
  oldest_pending: (v, t) => `its oldest pending event has waited ${v} min (alert at ${t} min)`,
  error_rate: (v, t) => `${v} % of its attempts of the last 15 minutes did not deliver (alert at ${t} %)`,
  dead_letters: (v, t) => `it holds ${v} dead letters (alert at ${t})`,
};

/**
 * Hysteresis: an alert fires when its value reaches the threshold and recovers only once
 * the value is below half of it (dead letters: below the threshold), so a value hovering
 * around the line sends one notice, not one per check.
 */
export function nextFiring(kind: AlertKind, firing: boolean, value: number | null, threshold: number): boolean {
  if (value === null) return firing;
  if (!firing) return value >= threshold;
  return kind === "dead_letters" ? value >= threshold : value >= threshold / 2;
}

export interface AlertDeps {
  readonly store: Store;
  readonly logger: Logger;
  readonly now: () => number;
  /** The Current's backlog and dead letters held, as the dashboard shows them. */
  readonly measure: (c: CurrentRecord) => Promise<{ oldestPendingAgeMs: number | null; deadLetters: number }>;
  readonly notify: (c: CurrentRecord, kind: NoticeKind, message: string) => Promise<void>;
}

const key = (id: string) => `alerts:${id}`;

/** Alert rules and state per Current (kept in the store's settings, so every process and a restart see the same). */
export class Alerts {
  constructor(private readonly d: AlertDeps) {}

  async #saved(id: string): Promise<Saved> {
    const raw = await this.d.store.config.getSetting(key(id));
    return raw ? (JSON.parse(raw) as Saved) : {};
  }

  async rules(id: string): Promise<{ rules: AlertRules; custom: boolean }> {
    const s = await this.#saved(id);
    return { rules: s.rules ?? defaultAlertRules, custom: s.rules !== undefined };
  }

  async setRules(id: string, rules: AlertRules | null): Promise<void> {
    const s = await this.#saved(id);
    await this.d.store.config.setSetting(key(id), JSON.stringify({ ...s, rules: rules ?? undefined }));
  }

  async status(id: string): Promise<AlertStatus[]> {
    const s = await this.#saved(id);
    const rules = s.rules ?? defaultAlertRules;
    return ALERT_KINDS.map((kind) => {
      const st = s.state?.[kind];
      const threshold = rules[RULE_OF[kind]];
      return { kind, threshold, value: st?.value ?? null, firing: threshold !== null && (st?.firing ?? false), since: st?.since ?? null };
    });
  }

  /** Measures every launched Current and sends a notice for each alert that crossed or recovered. */
  async check(currents: readonly CurrentRecord[]): Promise<void> {
    for (const c of currents) {
      // A draft sends nothing; a paused Current holds its events on purpose.
      if (c.status === "draft" || c.status === "paused") continue;
      try {
        await this.#checkOne(c);
      } catch (error) {
        this.d.logger.error({ err: error, currentId: c.id }, "could not check a Current's alerts; will retry");
      }
    }
  }

  async #checkOne(c: CurrentRecord): Promise<void> {
    const saved = await this.#saved(c.id);
    const rules = saved.rules ?? defaultAlertRules;
    const now = this.d.now();
    const m = await this.d.measure(c);
    const attempts = await this.d.store.attempts.summary(c.id, now - ERROR_RATE_WINDOW_MS);
    const values: Record<AlertKind, number | null> = {
      oldest_pending: m.oldestPendingAgeMs === null ? 0 : Math.floor(m.oldestPendingAgeMs / 60_000),
      // Too few attempts to say a rate: unknown (the alert stays as it is), unless none failed.
      error_rate: attempts.total >= ERROR_RATE_MIN_ATTEMPTS ? Math.round((100 * attempts.failed) / attempts.total) : attempts.failed === 0 ? 0 : null,
      dead_letters: m.deadLetters,
    };
    const state = { ...saved.state };
    const notices: Array<[NoticeKind, string]> = [];
    for (const kind of ALERT_KINDS) {
      const threshold = rules[RULE_OF[kind]];
      const was = state[kind]?.firing ?? false;
      const firing = threshold === null ? false : nextFiring(kind, was, values[kind], threshold);
      state[kind] = { firing, since: firing !== was ? now : (state[kind]?.since ?? now), value: values[kind] };
      if (firing && !was) notices.push(["alert", `Alert on "${c.name}": ${WHAT[kind](values[kind] ?? 0, threshold ?? 0)}.`]);
      if (!firing && was) notices.push(["alert_recovered", `Recovered on "${c.name}": ${kind.replace("_", " ")} is back to ${values[kind] ?? 0}${kind === "error_rate" ? " %" : kind === "oldest_pending" ? " min" : ""}.`]);
    }
    // The state is written before the notices go: a crash in between loses a notice rather than repeating it forever.
    await this.d.store.config.setSetting(key(c.id), JSON.stringify({ ...saved, state }));
    for (const [kind, message] of notices) await this.d.notify(c, kind, message);
  }
}
