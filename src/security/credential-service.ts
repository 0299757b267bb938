import { randomUUID } from "node:crypto";
import { conflict, invalid, notFound } from "../errors.js";
import type { IngestKeyRecord, Store } from "../store/port.js";
import { credentialMatches, generateCredential, hashCredential, maskSecret } from "./credentials.js";

const ADMIN_HASH = "admin_token_hash";
const READONLY_HASH = "readonly_token_hash";

export interface BootstrapResult {
  /** Set only when the admin token was generated now: print it once. */
  readonly generatedAdminToken?: string;
  /** Set only when an ingest key was generated now: print it once. */
  readonly generatedIngestKey?: string;
}

export interface IngestKeyView {
  id: string;
  workspace: string;
  key: string;
  strict: boolean;
  createdAt: string;
  revokedAt: string | null;
}

/** What a valid ingest key gives: its workspace, its id (rate limits), and whether validation is strict. */
export interface IngestIdentity {
  readonly workspace: string;
  readonly id: string;
  readonly strict: boolean;
}

const viewKey = (k: IngestKeyRecord): IngestKeyView => ({
  id: k.id,
  workspace: k.workspace,
  key: maskSecret(k.hint),
  strict: k.strict,
  createdAt: new Date(k.createdAt).toISOString(),
  revokedAt: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
});

export const WORKSPACE_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

/**
 * Admin token and ingest keys: stored as SHA-256 digests only, checked in constant time.
 * Ingest keys (and which workspaces are strict) are cached in memory by digest: refreshed
 * on every change made here, and every `refreshMs` (`startRefreshing`) so that a key created
 * or revoked through another process holds here too (server mode).
 */
export class CredentialService {
  #adminHash: string | undefined;
  #readonlyHash: string | undefined;
  #keys = new Map<string, IngestKeyRecord>();
  #strictWorkspaces = new Set<string>();
  #refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly store: Store, private readonly now: () => number = Date.now) {}

  async bootstrap(options: { adminToken?: string; readonlyToken?: string; ingestKey?: string }): Promise<BootstrapResult> {
    const result: { generatedAdminToken?: string; generatedIngestKey?: string } = {};
    await this.store.config.ensureWorkspace("default", this.now());
    if (options.adminToken) {
      await this.store.config.setSetting(ADMIN_HASH, hashCredential(options.adminToken));
    } else if ((await this.store.config.getSetting(ADMIN_HASH)) === undefined) {
      const token = generateCredential("cur_admin");
      await this.store.config.setSetting(ADMIN_HASH, hashCredential(token));
      result.generatedAdminToken = token;
    }
    this.#adminHash = await this.store.config.getSetting(ADMIN_HASH);
    if (options.readonlyToken) await this.store.config.setSetting(READONLY_HASH, hashCredential(options.readonlyToken));
    this.#readonlyHash = await this.store.config.getSetting(READONLY_HASH);
    if (options.ingestKey) {
      if (!(await this.store.config.findIngestKey(hashCredential(options.ingestKey)))) {
        await this.#insertKey("default", options.ingestKey, false);
      }
    } else if ((await this.store.config.listIngestKeys()).length === 0) {
      const key = generateCredential("cur_ingest");
      await this.#insertKey("default", key, false);
      result.generatedIngestKey = key;
    }
    await this.#reload();
    return result;
  }

  /** Re-reads keys and strict workspaces every `refreshMs` (changes made by other processes). */
  startRefreshing(refreshMs: number, onError: (error: unknown) => void): void {
    this.#refreshTimer ??= setInterval(() => void this.#reload().catch(onError), refreshMs);
    this.#refreshTimer.unref();
  }

  stopRefreshing(): void {
    if (this.#refreshTimer) clearInterval(this.#refreshTimer);
    this.#refreshTimer = undefined;
  }

  async #insertKey(workspace: string, key: string, strict: boolean): Promise<IngestKeyRecord> {
    const record: IngestKeyRecord = {
      id: randomUUID(), workspace, keyHash: hashCredential(key), hint: key.slice(-4), createdAt: this.now(), revokedAt: null, strict,
    };
    await this.store.config.insertIngestKey(record);
    return record;
  }

  async #reload(): Promise<void> {
    const [keys, strict] = await Promise.all([this.store.config.listIngestKeys(), this.store.config.strictWorkspaces()]);
    this.#keys = new Map(keys.filter((k) => k.revokedAt === null).map((k) => [k.keyHash, k]));
    this.#strictWorkspaces = new Set(strict);
  }

  isAdmin(presented: string | undefined): boolean {
    if (!presented || !this.#adminHash) return false;
    return credentialMatches(presented, this.#adminHash);
  }

  /** The role a presented admin credential gives: full, read-only, or none. */
  adminRole(presented: string | undefined): "admin" | "readonly" | undefined {
    if (this.isAdmin(presented)) return "admin";
    if (presented && this.#readonlyHash && credentialMatches(presented, this.#readonlyHash)) return "readonly";
    return undefined;
  }

  /**
   * The valid, unrevoked ingest key presented. Keys are looked up by their SHA-256 digest:
   * the lookup compares digests, never the secret itself.
   */
  ingestKey(presented: string | undefined): IngestIdentity | undefined {
    if (!presented) return undefined;
    const record = this.#keys.get(hashCredential(presented));
    return record && { workspace: record.workspace, id: record.id, strict: record.strict || this.#strictWorkspaces.has(record.workspace) };
  }

  /** A new ingest key for a workspace (created when new); the key is shown only here. */
  async createIngestKey(workspace: string, strict = false): Promise<IngestKeyView> {
    const ws = workspace.trim();
    if (!WORKSPACE_ID.test(ws)) throw invalid("workspace", "must be 1-63 letters, digits, '-' or '_'");
    await this.store.config.ensureWorkspace(ws, this.now());
    const key = generateCredential("cur_ingest");
    const record = await this.#insertKey(ws, key, strict);
    await this.#reload();
    return { ...viewKey(record), key };
  }

  async listIngestKeys(workspace?: string): Promise<IngestKeyView[]> {
    return (await this.store.config.listIngestKeys(workspace)).map(viewKey);
  }

  async revokeIngestKey(id: string): Promise<void> {
    const all = await this.store.config.listIngestKeys();
    const k = all.find((x) => x.id === id);
    if (!k) throw notFound(`ingest key ${id.slice(0, 64)}`);
    if (k.revokedAt !== null) throw conflict("this ingest key is already revoked");
    await this.store.config.revokeIngestKey(id, this.now());
    await this.#reload();
  }

  /** Strict validation for a whole workspace: missing catalog-required fields are refused. */
  async setWorkspaceStrict(workspace: string, strict: boolean): Promise<{ id: string; strict: boolean }> {
    if (!(await this.store.config.setWorkspaceStrict(workspace, strict))) throw notFound(`workspace ${workspace.slice(0, 64)}`);
    await this.#reload();
    return { id: workspace, strict };
  }
}
