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
  createdAt: string;
  revokedAt: string | null;
}

const viewKey = (k: IngestKeyRecord): IngestKeyView => ({
  id: k.id,
  workspace: k.workspace,
  key: maskSecret(k.hint),
  createdAt: new Date(k.createdAt).toISOString(),
  revokedAt: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
});

/**
 * Admin token and ingest keys: stored as SHA-256 digests only, checked in constant time.
 * Ingest keys are cached in memory by digest (the cache is refreshed on every change).
 */
export class CredentialService {
  #adminHash: string | undefined;
  #readonlyHash: string | undefined;
  #keys = new Map<string, IngestKeyRecord>();

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
        await this.#insertKey("default", options.ingestKey);
      }
    } else if ((await this.store.config.listIngestKeys()).length === 0) {
      const key = generateCredential("cur_ingest");
      await this.#insertKey("default", key);
      result.generatedIngestKey = key;
    }
    await this.#reloadKeys();
    return result;
  }

  async #insertKey(workspace: string, key: string): Promise<IngestKeyRecord> {
    const record: IngestKeyRecord = {
      id: randomUUID(), workspace, keyHash: hashCredential(key), hint: key.slice(-4), createdAt: this.now(), revokedAt: null,
    };
    await this.store.config.insertIngestKey(record);
    return record;
  }

  async #reloadKeys(): Promise<void> {
    this.#keys = new Map((await this.store.config.listIngestKeys()).filter((k) => k.revokedAt === null).map((k) => [k.keyHash, k]));
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
   * The valid, unrevoked ingest key presented (its workspace and id). Keys are looked up by
   * their SHA-256 digest: the lookup compares digests, never the secret itself.
   */
  ingestKey(presented: string | undefined): { workspace: string; id: string } | undefined {
    if (!presented) return undefined;
    const record = this.#keys.get(hashCredential(presented));
    return record && { workspace: record.workspace, id: record.id };
  }

  /** A new ingest key for a workspace (created when new); the key is shown only here. */
  async createIngestKey(workspace: string): Promise<IngestKeyView> {
    const ws = workspace.trim();
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/i.test(ws)) throw invalid("workspace", "must be 1-63 letters, digits, '-' or '_'");
    await this.store.config.ensureWorkspace(ws, this.now());
    const key = generateCredential("cur_ingest");
    const record = await this.#insertKey(ws, key);
    await this.#reloadKeys();
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
    await this.#reloadKeys();
  }
}
