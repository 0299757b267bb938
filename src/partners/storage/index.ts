import type { AttemptResult } from "../../delivery/attempt-outcome.js";
import { definePartner } from "../define-partner.js";
import { SCHEMA_ID, avroFor, containerFile, toRecord } from "./avro-schema.js";
import { targetOf } from "./targets.js";

const hour = (ms: number) => new Date(ms).toISOString().slice(0, 13).replace("T", "-");
const clean = (prefix: unknown) => (typeof prefix === "string" ? prefix.replace(/^\/+|\/+$/g, "") : "");

/**
 * Avro object container files in the original's layout (PARTNER-FORMATS.md section 10):
 * `<prefix>/currents.<workspace>.<current-id>/event_type=<type>/date=<YYYY-MM-DD-HH>/<schema-id>/<current-id>+0+<first-seq>.avro`,
 * the hour being the acceptance hour (UTC). A batch (cut every `flushSeconds` or `flushEvents`)
 * becomes one file per type and hour; a retry writes the same names again (an overwrite, never
 * a duplicate); the events are delivered once every file is stored.
 */
export const storage = definePartner({
  id: "storage",
  title: "Storage (Avro files)",
  description: "Writes Avro files like the original's storage export, to a local directory or any S3-compatible bucket.",
  settings: [
    { key: "target", label: "Target", type: "choice", required: false, secret: false, default: "directory", choices: [{ value: "directory", label: "A local directory" }, { value: "s3", label: "An S3-compatible bucket" }], help: "Where the files go." },
    { key: "directory", label: "Directory", type: "string", required: false, secret: false, pattern: "^/.{0,1000}$", patternHelp: "must be an absolute path on the Currents machine", help: "Directory target: an absolute path Currents can write to." },
    { key: "bucket", label: "Bucket", type: "string", required: false, secret: false, pattern: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", patternHelp: "must be an S3 bucket name", help: "S3 target: the bucket." },
    { key: "region", label: "Region", type: "string", required: false, secret: false, default: "us-east-1", pattern: "^[a-z0-9-]{1,30}$", patternHelp: "must be a region name like eu-west-1", help: "S3 target: the bucket's region." },
    { key: "endpoint", label: "Endpoint", type: "url", required: false, secret: false, help: "S3 target, optional: an S3-compatible store's URL (MinIO, R2...)." },
    { key: "accessKeyId", label: "Access key id", type: "string", required: false, secret: false, pattern: "^[A-Za-z0-9/+=._-]{1,128}$", patternHelp: "must be an access key id", help: "S3 target, optional: else the default credential chain (environment, instance role)." },
    { key: "secretAccessKey", label: "Secret access key", type: "string", required: false, secret: true, minLength: 6, help: "S3 target, with the access key id." },
    { key: "forcePathStyle", label: "Path-style URLs", type: "boolean", required: false, secret: false, help: "S3 target: bucket in the path (most S3-compatible stores need it)." },
    { key: "prefix", label: "Prefix", type: "string", required: false, secret: false, pattern: "^[A-Za-z0-9!_.*'()/-]{0,200}$", patternHelp: "must be a key prefix (letters, digits, / and !_.*'()-)", help: "Optional: the files' key prefix." },
    { key: "flushSeconds", label: "Flush every (s)", type: "number", required: false, secret: false, default: 300, min: 1, max: 3600, help: "A batch of files is written at least this often." },
    { key: "flushEvents", label: "Flush at (events)", type: "number", required: false, secret: false, default: 15_000, min: 1, max: 15_000, help: "...or when this many events wait." },
  ],
  limits: { maxBatchEvents: 15_000, maxBatchBytes: 64 * 1024 * 1024 },
  // Files, not requests: a file waits to fill (up to flushSeconds) even when the writer is free.
  batching: (s) => ({ fill: true, lingerMs: Number(s.flushSeconds ?? 300) * 1000, maxBatchEvents: Number(s.flushEvents ?? 15_000), maxBatchBytes: 64 * 1024 * 1024 }),
  testEventsNote: "Test events are written as files like any others (event ids start with currents-test-): delete them after looking.",
  endpointOf: (s) => (s.target === "s3" ? `s3://${String(s.bucket)}/${clean(s.prefix)}` : `file://${String(s.directory)}/${clean(s.prefix)}`),
  validate(s) {
    if (s.target === "s3" && !s.bucket) return { field: "bucket", message: "is required for the s3 target" };
    if (s.target !== "s3" && !s.directory) return { field: "directory", message: "is required for the directory target" };
    if (s.accessKeyId && !s.secretAccessKey) return { field: "secretAccessKey", message: "is required with accessKeyId" };
    return undefined;
  },
  buildRequest() {
    throw new Error("the storage partner writes files: it has no HTTP request");
  },
  async deliver(batch, settings, signal, current, policy): Promise<AttemptResult> {
    const started = performance.now();
    const latencyMs = () => Math.round((performance.now() - started) * 10) / 10;
    const target = targetOf(settings, policy);
    const base = [clean(settings.prefix), `currents.${current.workspace}.${current.id}`].filter(Boolean).join("/");
    try {
      if (batch.bodies.length === 0) {
        // The connection check: write, then delete, a small marker.
        const key = `${base}/.currents-check-${Date.now()}`;
        await target.put(key, Buffer.from("currents connection check\n"), signal);
        await target.remove(key);
        return { kind: "answered", status: 200, excerpt: "", latencyMs: latencyMs() };
      }
      const files = new Map<string, { type: string; firstSeq: number; records: Record<string, unknown>[] }>();
      batch.bodies.forEach((body, i) => {
        const meta = batch.events?.[i];
        const event = JSON.parse(body) as Record<string, unknown>;
        const type = String(event.event_type);
        const key = `${base}/event_type=${type}/date=${hour(meta?.receivedAt || Date.now())}/${SCHEMA_ID}`;
        let f = files.get(key);
        if (!f) files.set(key, (f = { type, firstSeq: meta?.seq ?? i, records: [] }));
        f.records.push(toRecord(event, avroFor(type).columns));
      });
      for (const [dir, f] of files) {
        const body = await containerFile(avroFor(f.type).type, f.records);
        await target.put(`${dir}/${current.id}+0+${f.firstSeq}.avro`, body, signal);
      }
      return { kind: "answered", status: 200, excerpt: `${files.size} files`, latencyMs: latencyMs() };
    } catch (error) {
      const e = error as Error & { $metadata?: { httpStatusCode?: number }; code?: string };
      const status = e.$metadata?.httpStatusCode;
      // Refused credentials or a missing bucket will not get better by retrying: the Current fails (and is probed).
      const refused = status === 401 || status === 403 || status === 404 || e.code === "EACCES" || e.code === "EROFS";
      return { kind: "error", error: `could not write the files: ${e.message}`, refused, latencyMs: latencyMs() };
    }
  },
});
