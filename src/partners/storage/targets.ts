import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import http from "node:http";
import https from "node:https";
import { DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { type EndpointPolicy, guardedLookup } from "../../security/ssrf-guard.js";
import type { ResolvedSettings } from "../define-partner.js";

/** Where files go: written whole or not at all, under a name that a retry overwrites. */
export interface StorageTarget {
  put(key: string, body: Buffer, signal: AbortSignal): Promise<void>;
  remove(key: string): Promise<void>;
}

/** A local directory: a temp file, then a rename (atomic on one file system): readers never see half a file. */
class DirectoryTarget implements StorageTarget {
  constructor(private readonly root: string) {}

  #path(key: string): string {
    const path = resolve(this.root, ...key.split("/"));
    if (!path.startsWith(resolve(this.root) + sep)) throw new Error(`the key ${key} leaves the directory`);
    return path;
  }

  async put(key: string, body: Buffer): Promise<void> {
    const path = this.#path(key);
    await mkdir(dirname(path), { recursive: true });
    const tmp = join(dirname(path), `.${randomBytes(6).toString("hex")}.tmp`);
    try {
      await writeFile(tmp, body, { flush: true });
      await rename(tmp, path);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  async remove(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }
}

/** Any S3-compatible store (`@aws-sdk/client-s3`): a PUT is whole or absent. */
class S3Target implements StorageTarget {
  readonly #client: S3Client;

  constructor(private readonly bucket: string, s: ResolvedSettings, policy: EndpointPolicy) {
    // Every connection goes through the SSRF guard's lookup, like the HTTP partners'.
    const lookup = guardedLookup(policy) as never;
    this.#client = new S3Client({
      requestHandler: new NodeHttpHandler({ httpAgent: new http.Agent({ keepAlive: true, lookup }), httpsAgent: new https.Agent({ keepAlive: true, lookup }) }),
      region: String(s.region ?? "us-east-1"),
      ...(typeof s.endpoint === "string" && s.endpoint ? { endpoint: s.endpoint } : {}),
      forcePathStyle: s.forcePathStyle === true,
      ...(typeof s.accessKeyId === "string" && s.accessKeyId ? { credentials: { accessKeyId: s.accessKeyId, secretAccessKey: String(s.secretAccessKey ?? "") } } : {}),
      maxAttempts: 1, // Currents retries the batch itself (same key: an overwrite, never a duplicate)
    });
  }

  async put(key: string, body: Buffer, signal: AbortSignal): Promise<void> {
    await this.#client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: "application/avro" }), { abortSignal: signal });
  }

  async remove(key: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}

const targets = new Map<string, StorageTarget>();

/** The target of these settings (kept while the settings stay the same). */
export function targetOf(s: ResolvedSettings, policy: EndpointPolicy): StorageTarget {
  const id = JSON.stringify([s.target, s.directory, s.endpoint, s.region, s.bucket, s.accessKeyId, s.secretAccessKey, s.forcePathStyle, policy]);
  let t = targets.get(id);
  if (!t) {
    t = s.target === "s3" ? new S3Target(String(s.bucket), s, policy) : new DirectoryTarget(String(s.directory));
    targets.set(id, t);
    if (targets.size > 100) targets.delete(targets.keys().next().value as string);
  }
  return t;
}
