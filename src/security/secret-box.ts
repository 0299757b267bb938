import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { maskSecret } from "./credentials.js";

/**
 * Encryption of partner secrets at rest: AES-256-GCM under a 32-byte master key, with a
 * random 12-byte nonce per value. The stored form is `v1:<nonce>:<tag>:<ciphertext>` in
 * base64url, so the store never holds a secret in clear.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error("the master key must be 32 bytes");
    this.#key = key;
  }

  seal(plaintext: string, associatedData = ""): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, nonce);
    cipher.setAAD(Buffer.from(associatedData));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return ["v1", nonce, cipher.getAuthTag(), body].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(":");
  }

  open(sealed: string, associatedData = ""): string {
    const [version, nonce, tag, body] = sealed.split(":");
    if (version !== "v1" || nonce === undefined || tag === undefined || body === undefined) {
      throw new Error("unreadable sealed secret");
    }
    const decipher = createDecipheriv("aes-256-gcm", this.#key, Buffer.from(nonce, "base64url"));
    decipher.setAAD(Buffer.from(associatedData));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    try {
      return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      throw new Error("a stored secret could not be decrypted: wrong master key?");
    }
  }
}

export function parseMasterKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  if (key.length !== 32) throw new Error("the master key must be 32 bytes (64 hex characters or base64)");
  return key;
}

/**
 * The master key: `CURRENTS_MASTER_KEY` when set, else `<dataDir>/master.key`, generated
 * on first start with mode 0600.
 */
export function loadMasterKey(dataDir: string, fromEnv?: string): Buffer {
  if (fromEnv) return parseMasterKey(fromEnv);
  const file = join(dataDir, "master.key");
  if (existsSync(file)) return parseMasterKey(readFileSync(file, "utf8"));
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  return key;
}

/** Secret settings sealed for one object (a Current or a source), with their masked hints for display. */
export function sealSettings(box: SecretBox, id: string, secrets: Record<string, string>): { secretsEnc: string | null; secretHints: Record<string, string> } {
  const keys = Object.keys(secrets);
  return {
    secretsEnc: keys.length === 0 ? null : box.seal(JSON.stringify(secrets), id),
    secretHints: Object.fromEntries(keys.map((k) => [k, maskSecret(secrets[k] as string)])),
  };
}
