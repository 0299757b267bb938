import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Store } from "../store/port.js";
import { SecretBox, parseMasterKey } from "./secret-box.js";

export interface RotationResult {
  /** Currents whose secrets were re-encrypted. */
  readonly rotated: number;
  /** Sources whose secrets were re-encrypted. */
  readonly sources: number;
  /** The new key in hex, when it did not come from the caller (to set in CURRENTS_MASTER_KEY). */
  readonly newKeyHex: string;
  /** True when the key file in the data dir was replaced. */
  readonly keyFileWritten: boolean;
}

/**
 * Re-encrypts every Current's secrets under a new master key. Every secret is decrypted and
 * sealed again in memory first (nothing is written if one cannot be read), then all are
 * replaced in one transaction. When the old key came from `<dataDir>/master.key`, the new one
 * is written there (via `master.key.next`, then renamed); when it came from
 * `CURRENTS_MASTER_KEY`, the caller must set the new value before the next start.
 */
export async function rotateMasterKey(store: Store, dataDir: string, oldKey: Buffer, newKeyText?: string): Promise<RotationResult> {
  const newKey = newKeyText ? parseMasterKey(newKeyText) : randomBytes(32);
  const oldBox = new SecretBox(oldKey);
  const newBox = new SecretBox(newKey);
  const sealed: Array<{ id: string; secretsEnc: string; source?: boolean }> = [];
  for (const c of await store.config.listCurrents()) {
    if (!c.secretsEnc) continue;
    sealed.push({ id: c.id, secretsEnc: newBox.seal(oldBox.open(c.secretsEnc, c.id), c.id) });
  }
  for (const s of await store.sources.list()) {
    if (!s.secretsEnc) continue;
    sealed.push({ id: s.id, secretsEnc: newBox.seal(oldBox.open(s.secretsEnc, s.id), s.id), source: true });
  }
  const file = join(dataDir, "master.key");
  const fromFile = existsSync(file) && parseMasterKey(readFileSync(file, "utf8")).equals(oldKey);
  if (fromFile) writeFileSync(`${file}.next`, `${newKey.toString("hex")}\n`, { mode: 0o600 });
  await store.config.replaceSecrets(sealed);
  if (fromFile) renameSync(`${file}.next`, file);
  return { rotated: sealed.filter((x) => !x.source).length, sources: sealed.filter((x) => x.source).length, newKeyHex: newKey.toString("hex"), keyFileWritten: fromFile };
}
