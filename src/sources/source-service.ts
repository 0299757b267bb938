import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { type Config, endpointPolicy } from "../config.js";
import { checkName, checkSettings } from "../currents/current-input.js";
import { invalid, notFound } from "../errors.js";
import type { ResolvedSettings } from "../partners/define-partner.js";
import { type SecretBox, sealSettings } from "../security/secret-box.js";
import type { SourceRecord, SourceStats, Store } from "../store/port.js";
import { sourceKindById, sourceKinds } from "./registry.js";

export interface SourceInput {
  kind?: string;
  name?: string;
  workspace?: string;
  settings?: Record<string, unknown>;
}

/** What the API shows of a source: secrets masked, its webhook path and the provider's setup. */
export interface SourceView {
  id: string;
  kind: string;
  name: string;
  workspace: string;
  settings: Record<string, unknown>;
  /** Where the provider posts: `POST /v1/sources/{id}` on Currents' public URL. */
  webhookPath: string;
  webhookUrl: string;
  setup: string[];
  createdAt: string;
  updatedAt: string;
  stats: SourceStats & { lastErrorAt: string | null; recentUnmapped: Array<{ at: string; providerType: string; excerpt: string }> };
}

/** Sources: create, change, delete, show (SPEC section 12). Secrets sealed like partner secrets. */
export class SourceService {
  constructor(
    private readonly store: Store,
    private readonly secrets: SecretBox,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  resolveSettings(s: SourceRecord): ResolvedSettings {
    const kind = sourceKindById(s.kind);
    const defaults = Object.fromEntries((kind?.settings ?? []).filter((d) => d.default !== undefined).map((d) => [d.key, d.default]));
    return { ...defaults, ...s.settings, ...(s.secretsEnc ? (JSON.parse(this.secrets.open(s.secretsEnc, s.id)) as Record<string, string>) : {}) };
  }

  async record(id: string): Promise<SourceRecord> {
    const s = await this.store.sources.get(id);
    if (!s) throw notFound(`source ${id.slice(0, 64)}`);
    return s;
  }

  #seal(id: string, secrets: Record<string, string>) {
    return sealSettings(this.secrets, id, secrets);
  }

  async create(input: SourceInput, log: Logger = this.logger): Promise<SourceRecord> {
    const kind = sourceKindById(String(input.kind));
    if (!kind) throw invalid("kind", `must be one of ${Object.keys(sourceKinds).join(", ")}; got "${String(input.kind).slice(0, 50)}"`);
    if (input.name === undefined) throw invalid("name", "is required");
    const workspace = (input.workspace ?? "default").trim();
    if (!(await this.store.config.listWorkspaces()).includes(workspace)) throw invalid("workspace", `unknown workspace "${workspace}"`);
    const checked = checkSettings(kind, input.settings ?? {}, endpointPolicy(this.config));
    const id = randomUUID();
    const now = this.now();
    const record: SourceRecord = { id, workspace, kind: kind.id, name: checkName(input.name), settings: checked.plain, ...this.#seal(id, checked.secrets), createdAt: now, updatedAt: now };
    await this.store.sources.insert(record);
    log.info({ sourceId: id, kind: kind.id, workspace }, "source created");
    return record;
  }

  async update(id: string, input: SourceInput): Promise<SourceRecord> {
    const old = await this.record(id);
    if (input.kind !== undefined && input.kind !== old.kind) throw invalid("kind", "cannot be changed (create another source)");
    if (input.workspace !== undefined && input.workspace !== old.workspace) throw invalid("workspace", "cannot be changed");
    const kind = sourceKindById(old.kind);
    if (!kind) throw invalid("kind", `unknown kind ${old.kind}`);
    let sealed = { secretsEnc: old.secretsEnc, secretHints: old.secretHints };
    let settings = old.settings;
    if (input.settings !== undefined) {
      const previous = { plain: old.settings, secrets: old.secretsEnc ? (JSON.parse(this.secrets.open(old.secretsEnc, id)) as Record<string, string>) : {}, hints: old.secretHints };
      const checked = checkSettings(kind, input.settings, endpointPolicy(this.config), previous);
      settings = checked.plain;
      sealed = this.#seal(id, checked.secrets);
    }
    const record: SourceRecord = { ...old, name: input.name === undefined ? old.name : checkName(input.name), settings, ...sealed, updatedAt: this.now() };
    if (!(await this.store.sources.update(record))) throw notFound(`source ${id.slice(0, 64)}`);
    return record;
  }

  async delete(id: string): Promise<void> {
    if (!(await this.store.sources.delete(id))) throw notFound(`source ${id.slice(0, 64)}`);
  }

  async view(s: SourceRecord, origin: string): Promise<SourceView> {
    const stats = await this.store.sources.stats(s.id);
    const unmapped = await this.store.sources.unmapped(s.id, 100);
    const webhookPath = `/v1/sources/${s.id}`;
    const base = s.kind === "twilio" && typeof s.settings.publicUrl === "string" ? s.settings.publicUrl.replace(/\/+$/, "") : origin;
    const webhookUrl = `${base}${webhookPath}`;
    return {
      id: s.id, kind: s.kind, name: s.name, workspace: s.workspace, settings: { ...s.settings, ...s.secretHints }, webhookPath, webhookUrl,
      setup: sourceKindById(s.kind)?.setup(webhookUrl) ?? [],
      createdAt: new Date(s.createdAt).toISOString(), updatedAt: new Date(s.updatedAt).toISOString(),
      stats: {
        ...stats, lastErrorAt: stats.lastErrorAt === null ? null : new Date(stats.lastErrorAt).toISOString(),
        recentUnmapped: unmapped.map((u) => ({ at: new Date(u.at).toISOString(), providerType: u.providerType, excerpt: u.excerpt })),
      } as SourceView["stats"],
    };
  }
}
