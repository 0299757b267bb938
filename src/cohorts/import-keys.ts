import { randomUUID } from "node:crypto";
import { invalid, notFound } from "../errors.js";
import { WORKSPACE_ID } from "../security/credential-service.js";
import { generateCredential, hashCredential, maskSecret } from "../security/credentials.js";
import type { DataImportKeyRecord, Store } from "../store/port.js";

export interface ImportKeyView {
  id: string;
  workspace: string;
  key: string;
  createdAt: string;
}

const view = (k: DataImportKeyRecord): ImportKeyView => ({ id: k.id, workspace: k.workspace, key: maskSecret(k.hint), createdAt: new Date(k.createdAt).toISOString() });

/**
 * Data import keys: what a partner (Heap's cohort sync) sends as `client_secret`; each gives a
 * workspace. Stored as SHA-256 digests; the key itself is shown once, when created.
 */
export class DataImportKeys {
  constructor(private readonly store: Store, private readonly now: () => number = Date.now) {}

  async create(workspace: string): Promise<ImportKeyView> {
    const ws = workspace.trim();
    if (!WORKSPACE_ID.test(ws)) throw invalid("workspace", "must be 1-63 letters, digits, '-' or '_'");
    await this.store.config.ensureWorkspace(ws, this.now());
    const key = generateCredential("cur_import");
    const record = { id: randomUUID(), workspace: ws, keyHash: hashCredential(key), hint: key.slice(-4), createdAt: this.now() };
    await this.store.cohorts.insertImportKey(record);
    return { ...view(record), key };
  }

  /** CURRENTS_DATA_IMPORT_KEY: a key for the default workspace, added once. */
  async preset(key: string): Promise<void> {
    const keyHash = hashCredential(key);
    if (await this.store.cohorts.findImportKey(keyHash)) return;
    await this.store.config.ensureWorkspace("default", this.now());
    await this.store.cohorts.insertImportKey({ id: randomUUID(), workspace: "default", keyHash, hint: key.slice(-4), createdAt: this.now() });
  }

  async list(workspace?: string): Promise<ImportKeyView[]> {
    return (await this.store.cohorts.listImportKeys(workspace)).map(view);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.store.cohorts.deleteImportKey(id))) throw notFound(`data import key ${id}`);
  }

  /** The workspace of a presented key, or undefined (looked up by digest, never compared in clear). */
  async workspaceOf(presented: string): Promise<string | undefined> {
    return (await this.store.cohorts.findImportKey(hashCredential(presented)))?.workspace;
  }
}
