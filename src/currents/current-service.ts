import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { type Config, endpointPolicy } from "../config.js";
import type { DeliveryEngine } from "../delivery/delivery-engine.js";
import { ClientError, conflict, invalid, notFound } from "../errors.js";
import type { PartnerDefinition, ResolvedSettings } from "../partners/define-partner.js";
import { partnerById, partners } from "../partners/registry.js";
import { type SecretBox, sealSettings } from "../security/secret-box.js";
import type { Store } from "../store/port.js";
import {
  type CurrentInput, checkBatching, checkContactEmail, checkEvents, checkName, checkSettings, checkTransformations,
} from "./current-input.js";
import type { Notifier } from "../notices/notifier.js";
import type { CurrentRecord, CurrentStatus } from "./model.js";
import { type CurrentStats, type CurrentView, CurrentViews } from "./current-views.js";

export type { CurrentStats, CurrentView } from "./current-views.js";

/** A secret Currents generated (a signing secret) is shown once, in the answer that created it. */
function withGenerated(view: CurrentView, generated: Record<string, string>): CurrentView {
  return Object.keys(generated).length === 0 ? view : { ...view, secretsShownOnce: generated };
}

/** Compare-and-set tries before a change is refused as busy (409). */
const CAS_TRIES = 5;

/** Runs `attempt` (read, compute, write-if-unchanged) until a write lands (undefined: someone wrote in between). */
async function compareAndSet<T>(attempt: () => Promise<T | undefined>): Promise<T> {
  for (let n = 1; n <= CAS_TRIES; n++) {
    const written = await attempt();
    if (written !== undefined) return written;
  }
  throw conflict("the Current was changed by another request at the same moment; try again");
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The Current lifecycle (see model.ts) over the store, with the delivery engine kept in step. */
export class CurrentService {
  #engine: DeliveryEngine | undefined;
  readonly #views: CurrentViews;
  #onDeleted: ((currentId: string) => void) | undefined;
  #notifier: Notifier | undefined;
  readonly #lastDeadLetterNotice = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly secrets: SecretBox,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.#views = new CurrentViews(store, now, () => this.#engine);
  }

  attachEngine(engine: DeliveryEngine, notifier?: Notifier, onDeleted?: (currentId: string) => void): void {
    this.#engine = engine;
    this.#notifier = notifier;
    this.#onDeleted = onDeleted;
  }

  resolveSettings(current: CurrentRecord): ResolvedSettings {
    return { ...current.settings, ...this.#openSecrets(current) };
  }

  #openSecrets(current: CurrentRecord): Record<string, string> {
    if (!current.secretsEnc) return {};
    return JSON.parse(this.secrets.open(current.secretsEnc, current.id)) as Record<string, string>;
  }

  #sealSecrets(id: string, secrets: Record<string, string>) {
    return sealSettings(this.secrets, id, secrets);
  }

  #partner(id: string | undefined): PartnerDefinition {
    const p = id === undefined ? undefined : partnerById(id);
    if (!p) throw invalid("partner", `must be one of ${Object.keys(partners).join(", ")}; got "${String(id).slice(0, 50)}"`);
    return p;
  }

  /** `log`: the request's logger (its lines carry the request id); the service's own otherwise. */
  async create(input: CurrentInput, log: Logger = this.logger): Promise<CurrentView> {
    if (input.name === undefined) throw invalid("name", "is required");
    if (input.settings === undefined) throw invalid("settings", "is required");
    const partner = this.#partner(input.partner);
    const workspace = (input.workspace ?? "default").trim();
    if (!(await this.store.config.listWorkspaces()).includes(workspace)) throw invalid("workspace", `unknown workspace "${workspace}"`);
    const id = randomUUID();
    const { plain, secrets, generated } = checkSettings(partner, input.settings, endpointPolicy(this.config), undefined, this.now());
    const now = this.now();
    const record: CurrentRecord = {
      id,
      workspace,
      name: checkName(input.name),
      partner: partner.id,
      contactEmail: checkContactEmail(input.contactEmail),
      settings: plain,
      ...this.#sealSecrets(id, secrets),
      events: checkEvents(input.events ?? []),
      transformations: checkTransformations(input.transformations ?? []),
      batching: checkBatching({ ...input.batching, ...(input.ordering ? { ordering: input.ordering } : {}) }, partner),
      status: "draft",
      statusReason: null,
      statusSince: now,
      createdAt: now,
      updatedAt: now,
      launchedAt: null,
      version: 1,
    };
    await this.store.config.insertCurrent(record, {
      ackedSeq: 0, delivered: 0, failedAttempts: 0, deadLettered: 0, expired: 0, valuesCut: 0, lastDeliveredAt: null, lastError: null, lastErrorAt: null,
    });
    log.info({ currentId: id, partner: partner.id, workspace }, "current created");
    return withGenerated(await this.view(record), generated);
  }

  /** The connection check for settings not saved yet (the wizard's button). */
  async checkConnection(partnerId: string, settings: Record<string, unknown>) {
    const partner = this.#partner(partnerId);
    const { plain, secrets } = checkSettings(partner, settings, endpointPolicy(this.config));
    const now = this.now();
    const probe: CurrentRecord = {
      id: `check-${randomUUID()}`, workspace: "default", name: "connection check", partner: partner.id, contactEmail: null,
      settings: plain, secretsEnc: null, secretHints: {}, events: [], transformations: [], batching: {},
      status: "draft", statusReason: null, statusSince: now, createdAt: now, updatedAt: now, launchedAt: null, version: 1,
    };
    if (!this.#engine) throw new Error("delivery engine not attached");
    return this.#engine.connectionCheck(probe, { ...plain, ...secrets });
  }

  /** The connection check of a Current with settings being edited: secrets sent back masked (or left out) are its stored ones. */
  async checkCurrentConnection(id: string, settings: Record<string, unknown> | undefined) {
    const old = await this.#get(id);
    const partner = this.#partner(old.partner);
    const { plain, secrets } = settings === undefined
      ? { plain: old.settings, secrets: this.#openSecrets(old) }
      : checkSettings(partner, settings, endpointPolicy(this.config), { plain: old.settings, secrets: this.#openSecrets(old), hints: old.secretHints }, this.now());
    if (!this.#engine) throw new Error("delivery engine not attached");
    return this.#engine.connectionCheck({ ...old, settings: plain }, { ...plain, ...secrets });
  }

  async #get(id: string): Promise<CurrentRecord> {
    const c = await this.store.config.getCurrent(id);
    if (!c) throw notFound(`Current ${id.slice(0, 64)}`);
    return c;
  }

  async get(id: string): Promise<CurrentView> {
    return this.view(await this.#get(id));
  }

  async record(id: string): Promise<CurrentRecord> {
    return this.#get(id);
  }

  async list(workspace?: string): Promise<CurrentView[]> {
    const all = await this.store.config.listCurrents(workspace);
    return Promise.all(all.map((c) => this.view(c)));
  }

  /** Per-minute points of the last `minutes` minutes, for the charts. */
  async series(id: string, minutes: number) {
    await this.#get(id);
    const since = Math.floor(this.now() / 60_000) - minutes + 1;
    return (await this.store.config.listMinutes(id, since)).map((p) => ({
      at: new Date(p.minute * 60_000).toISOString(), delivered: p.delivered, failed: p.failed, p50Ms: p.p50Ms, p99Ms: p.p99Ms, backlog: p.backlog, oldestAgeMs: p.oldestAgeMs,
    }));
  }

  /**
   * Update Current: changes settings without losing events (the position is kept). Written
   * with compare-and-set: when a status change (a pause, the partner refusing) lands between
   * reading and writing, the update is computed again from the newer Current.
   */
  async update(id: string, input: CurrentInput, log: Logger = this.logger): Promise<CurrentView> {
    let generated: Record<string, string> = {};
    const written = await compareAndSet(() => {
      generated = {}; // only what the attempt that lands generated is shown
      return this.#tryUpdate(id, input, generated, log);
    });
    return withGenerated(await this.view(written), generated);
  }

  async #tryUpdate(id: string, input: CurrentInput, generated: Record<string, string>, log: Logger): Promise<CurrentRecord | undefined> {
    const old = await this.#get(id);
    if (input.partner !== undefined && input.partner !== old.partner) throw invalid("partner", "cannot be changed; create a new Current");
    if (input.workspace !== undefined && input.workspace !== old.workspace) throw invalid("workspace", "cannot be changed");
    const partner = this.#partner(old.partner);
    let sealed = { secretsEnc: old.secretsEnc, secretHints: old.secretHints };
    let plain = old.settings;
    if (input.settings !== undefined) {
      const checked = checkSettings(partner, input.settings, endpointPolicy(this.config), {
        plain: old.settings, secrets: this.#openSecrets(old), hints: old.secretHints,
      }, this.now());
      plain = checked.plain;
      Object.assign(generated, checked.generated);
      sealed = this.#sealSecrets(id, checked.secrets);
    }
    const now = this.now();
    // A user update of a failing Current is its way back to active (SPEC section 5).
    const recovers = old.status === "failing" && input.settings !== undefined;
    const record: CurrentRecord = {
      ...old,
      name: input.name !== undefined ? checkName(input.name) : old.name,
      contactEmail: input.contactEmail !== undefined ? checkContactEmail(input.contactEmail) : old.contactEmail,
      settings: plain,
      ...sealed,
      events: input.events !== undefined ? checkEvents(input.events) : old.events,
      transformations: input.transformations !== undefined ? checkTransformations(input.transformations) : old.transformations,
      batching: input.batching !== undefined || input.ordering !== undefined
        ? checkBatching({ ...(input.batching ?? old.batching), ...(input.ordering ? { ordering: input.ordering } : input.batching ? { ordering: old.batching.ordering } : {}) }, partner)
        : old.batching,
      status: recovers ? "active" : old.status,
      statusReason: recovers ? null : old.statusReason,
      statusSince: recovers ? now : old.statusSince,
      updatedAt: now,
    };
    if ((record.status === "active") && record.events.length === 0) throw invalid("events", "an active Current must select at least one event type");
    if (!(await this.store.config.updateCurrent(record))) return undefined;
    if (recovers) {
      await this.store.config.addHistory({ currentId: id, at: now, kind: "status", status: "active", message: "updated by the user while failing" });
      await this.#notifier?.notify(record, "recovered", `The Current "${record.name}" was updated and is sending again.`);
    }
    await this.#engine?.refresh(id);
    log.info({ currentId: id }, "current updated");
    return { ...record, version: old.version + 1 };
  }

  /**
   * A status change: checks the status it starts from and writes in one compare-and-set
   * step (with `setAckedSeq`, the position moves in the same transaction), so two changes
   * racing each other never both apply from the same starting point.
   */
  async #transition(id: string, allowed: readonly CurrentStatus[], to: CurrentStatus, reason: string | null,
    extra: (old: CurrentRecord) => Promise<{ fields?: Partial<CurrentRecord>; setAckedSeq?: number }> = async () => ({}), log: Logger = this.logger) {
    return compareAndSet(async () => {
      const old = await this.#get(id);
      if (!allowed.includes(old.status)) {
        throw conflict(`cannot go from ${old.status} to ${to}; allowed from: ${allowed.join(", ")}`);
      }
      const { fields, setAckedSeq } = await extra(old);
      const now = this.now();
      const record: CurrentRecord = { ...old, ...fields, status: to, statusReason: reason, statusSince: now, updatedAt: now };
      if (!(await this.store.config.updateCurrent(record, setAckedSeq))) return undefined;
      await this.store.config.addHistory({ currentId: id, at: now, kind: "status", status: to, message: reason ?? `${old.status} -> ${to}` });
      log.info({ currentId: id, from: old.status, to, reason }, "current status changed");
      return { ...record, version: old.version + 1 };
    });
  }

  /** Launch: draft -> active. The Current receives events accepted from now on. */
  async launch(id: string, log: Logger = this.logger): Promise<CurrentView> {
    const record = await this.#transition(id, ["draft"], "active", null, async (old) => {
      if (old.events.length === 0) throw invalid("events", "select at least one event type before launching");
      return { fields: { launchedAt: this.now() }, setAckedSeq: await this.store.events.headSeq() };
    }, log);
    await this.#engine?.refresh(id);
    return this.view(record);
  }

  async pause(id: string, log: Logger = this.logger): Promise<CurrentView> {
    const record = await this.#transition(id, ["active", "failing"], "paused", "paused by the user", undefined, log);
    await this.#engine?.refresh(id);
    return this.view(record);
  }

  /** Resume (also re-enables a failing or disabled Current): the backlog is delivered. */
  async resume(id: string, log: Logger = this.logger): Promise<CurrentView> {
    const record = await this.#transition(id, ["paused", "failing", "disabled"], "active", null, undefined, log);
    await this.#engine?.refresh(id);
    return this.view(record);
  }

  /** The partner refused the credentials or URL: stop sending, keep buffering, tell the contact. */
  async markFailing(id: string, reason: string): Promise<void> {
    try {
      // Only from active (a conflict, i.e. paused or deleted meanwhile, ends it quietly).
      const record = await this.#transition(id, ["active"], "failing", reason);
      await this.#engine?.refresh(id);
      await this.#notifier?.notify(record, "failing",
        `The partner refused the Current "${record.name}" (${reason}). Events are kept and sending resumes when a connection check succeeds or the Current is updated.`);
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
    }
  }

  /** A probe of a failing Current succeeded. */
  async recover(id: string, reason: string): Promise<void> {
    const record = await this.#transition(id, ["failing"], "active", null);
    await this.store.config.addHistory({ currentId: id, at: this.now(), kind: "status", status: "active", message: reason });
    await this.#engine?.refresh(id);
    await this.#notifier?.notify(record, "recovered", `The Current "${record.name}" is sending again: ${reason}.`);
  }

  /** Failing for too long: disabled, events kept until retention ends. */
  async disable(id: string, reason: string): Promise<void> {
    const record = await this.#transition(id, ["failing"], "disabled", reason);
    await this.#engine?.refresh(id);
    await this.#notifier?.notify(record, "disabled",
      `The Current "${record.name}" was disabled: ${reason}. Its events are kept until the retention window ends; resume it to deliver the backlog.`);
  }

  /** Events became dead letters: tell the contact, at most once an hour per Current. */
  async deadLettersAppeared(id: string, count: number): Promise<void> {
    const last = this.#lastDeadLetterNotice.get(id) ?? -Infinity;
    if (this.now() - last < 3_600_000) return;
    this.#lastDeadLetterNotice.set(id, this.now());
    const c = await this.store.config.getCurrent(id);
    if (c) await this.#notifier?.notify(c, "dead_letters", `The partner refused ${count} event(s) of "${c.name}"; they are kept as dead letters and can be redriven.`);
  }

  async history(id: string, limit = 100) {
    await this.#get(id);
    return (await this.store.config.listHistory(id, limit)).map((h) => ({ at: iso(h.at), kind: h.kind, status: h.status, message: h.message }));
  }

  /**
   * Deletes the row first, then stops the worker and lets go of the lease: a lease sync in
   * between finds no Current to start (and a worker never starts without its progress row).
   */
  async delete(id: string, log: Logger = this.logger): Promise<void> {
    await this.#get(id);
    if (!(await this.store.config.deleteCurrent(id))) throw notFound(`Current ${id.slice(0, 64)}`);
    await this.#engine?.remove(id);
    this.#onDeleted?.(id);
    log.info({ currentId: id }, "current deleted");
  }

  /** The Current's counters. */
  stats(c: CurrentRecord): Promise<CurrentStats> {
    return this.#views.stats(c);
  }

  view(c: CurrentRecord): Promise<CurrentView> {
    return this.#views.view(c);
  }
}
