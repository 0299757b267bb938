import { readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ListObjectsV2Command, GetObjectCommand, S3Client, CreateBucketCommand } from "@aws-sdk/client-s3";
import avro from "avsc";
import S3rver from "s3rver";
import { afterEach, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { exited, startChild } from "../support/child-service.js";
import { ADMIN, INGEST, type Service, startService, tempDir, waitFor } from "../support/harness.js";

const TYPES = ["users.messages.email.Send", "users.behaviors.Purchase", "users.behaviors.CustomEvent"];
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** Every file under `dir` (relative paths), hidden temp files included. */
function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** The records of an Avro container file, and its schema's name. */
async function readAvro(buf: Buffer): Promise<{ schema: { name: string; fields: Array<{ name: string }> }; records: Array<Record<string, unknown>> }> {
  return new Promise((resolve, reject) => {
    const records: Array<Record<string, unknown>> = [];
    let schema: { name: string; fields: Array<{ name: string }> } | undefined;
    const decoder = new avro.streams.BlockDecoder();
    decoder.on("metadata", (type: avro.Type) => { schema = type.schema() as typeof schema; });
    decoder.on("data", (r: Record<string, unknown>) => records.push(r));
    decoder.on("end", () => resolve({ schema: schema as NonNullable<typeof schema>, records }));
    decoder.on("error", reject);
    decoder.end(buf);
  });
}

const events = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => sampleEvent(TYPES[i % TYPES.length] as string, { id: `${prefix}-${i}`, n: i }));

describe("storage: Avro files like the original's", () => {
  it("writes one file per type and hour, in the original's layout, each event once, readable with avsc", async () => {
    const dir = tempDir("currents-avro-");
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const svc: Service = await startService();
    cleanup.push(() => svc.close());
    const created = await svc.admin("POST", "/api/v1/currents", { name: "lake", partner: "storage", settings: { directory: dir, prefix: "exports", flushSeconds: 1, flushEvents: 500 }, events: TYPES });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id as string;
    expect(created.body.destination).toBe(`file://${dir}/exports`);
    expect((await svc.admin("POST", "/api/v1/partners/storage/check", { settings: { directory: dir } })).body).toMatchObject({ ok: true });
    await svc.admin("POST", `/api/v1/currents/${id}/launch`);
    const sent = events(1200, "ev");
    for (let i = 0; i < sent.length; i += 400) expect((await svc.ingest(sent.slice(i, i + 400))).status).toBe(200);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered === 1200, 20_000, "1,200 delivered");
    const all = files(dir);
    expect(all.filter((f) => !f.endsWith(".avro"))).toEqual([]); // no temp file, no check marker left
    const hourNow = new Date().toISOString().slice(0, 13).replace("T", "-");
    const got = new Map<string, Record<string, unknown>>();
    for (const f of all) {
      expect(f).toMatch(new RegExp(`^exports/currents\\.default\\.${id}/event_type=(users\\.[A-Za-z.]+)/date=\\d{4}-\\d{2}-\\d{2}-\\d{2}/1/${id}\\+0\\+\\d+\\.avro$`));
      expect(f).toContain(`date=${hourNow}`);
      const type = /event_type=([^/]+)/.exec(f)?.[1] as string;
      const { schema, records } = await readAvro(readFileSync(join(dir, f)));
      expect(records.length).toBeGreaterThan(0); // never an empty file
      expect(schema.name).toBe(`currents.${type}`); // the record: the action, in the type's namespace
      for (const r of records) {
        expect(got.has(String(r.id))).toBe(false);
        got.set(String(r.id), { ...r, type });
      }
    }
    expect(got.size).toBe(1200);
    const purchase = sent.find((e) => e.event_type === "users.behaviors.Purchase") as { id: string; time: number; user: Record<string, unknown>; properties: Record<string, unknown> };
    expect(got.get(purchase.id)).toMatchObject({ type: "users.behaviors.Purchase", id: purchase.id, time: purchase.time, user_id: purchase.user.user_id, product_id: purchase.properties.product_id, price: purchase.properties.price });
    expect(typeof got.get(purchase.id)?.purchase_properties).toBe("string"); // nested objects as JSON strings
  });

  it("uploads to an S3-compatible store (a real local s3rver), path-style, with access keys", async () => {
    const root = tempDir("s3rver-");
    cleanup.push(() => rmSync(root, { recursive: true, force: true }));
    const s3rver = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: root });
    const { port } = await s3rver.run();
    cleanup.push(() => s3rver.close());
    const endpoint = `http://127.0.0.1:${port}`;
    const client = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
    await client.send(new CreateBucketCommand({ Bucket: "lake" }));
    const svc: Service = await startService();
    cleanup.push(() => svc.close());
    const settings = { target: "s3", bucket: "lake", endpoint, region: "us-east-1", forcePathStyle: true, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", flushSeconds: 1 };
    const created = await svc.admin("POST", "/api/v1/currents", { name: "s3", partner: "storage", settings, events: TYPES });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.settings.secretAccessKey).toMatch(/^\*\*\*\*/);
    await svc.admin("POST", `/api/v1/currents/${created.body.id}/launch`);
    await svc.ingest(events(90, "s3"));
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${created.body.id}`)).body.stats.delivered === 90, 20_000);
    const listed = await client.send(new ListObjectsV2Command({ Bucket: "lake" }));
    const keys = (listed.Contents ?? []).map((o) => o.Key as string);
    expect(keys.length).toBe(3);
    let n = 0;
    for (const key of keys) {
      const obj = await client.send(new GetObjectCommand({ Bucket: "lake", Key: key }));
      n += (await readAvro(Buffer.from(await (obj.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()))).records.length;
    }
    expect(n).toBe(90);
    const missing = await svc.admin("POST", "/api/v1/currents", { name: "x", partner: "storage", settings: { target: "s3" }, events: TYPES });
    expect(missing.body.error).toMatchObject({ field: "settings.bucket" });
  });

  it("kill -9 while files are written loses nothing and leaves no half-written file visible", async () => {
    const out = tempDir("currents-avro-kill-");
    const dataDir = tempDir();
    cleanup.push(() => rmSync(out, { recursive: true, force: true }), () => rmSync(dataDir, { recursive: true, force: true }));
    const box = { child: await startChild(dataDir) };
    cleanup.push(() => { box.child.proc.kill("SIGKILL"); });
    const api = async (method: string, path: string, body?: unknown, token = ADMIN) => {
      const res = await fetch(`${box.child.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const created = await api("POST", "/api/v1/currents", { name: "lake", partner: "storage", settings: { directory: out, flushSeconds: 1, flushEvents: 200 }, events: TYPES });
    await api("POST", `/api/v1/currents/${created.body.id}/launch`);
    const acked = new Set<string>();
    for (let b = 0; b < 12; b++) {
      const batch = events(500, `k${b}`);
      if ((await api("POST", "/v1/events", { events: batch }, INGEST)).status === 200) for (const e of batch) acked.add(e.id as string);
      if (b === 6) {
        box.child.proc.kill("SIGKILL");
        await exited(box.child.proc);
        // What readers can see at the kill: whole Avro files only (a temp file is hidden, dot-named).
        for (const f of files(out).filter((x) => !x.split("/").pop()?.startsWith("."))) expect((await readAvro(readFileSync(join(out, f)))).records.length).toBeGreaterThan(0);
        box.child = await startChild(dataDir);
      }
    }
    const ids = async () => {
      const seen = new Set<string>();
      for (const f of files(out).filter((x) => x.endsWith(".avro"))) for (const r of (await readAvro(readFileSync(join(out, f)))).records) seen.add(String(r.id));
      return seen;
    };
    await waitFor(async () => { const s = await ids(); return [...acked].every((id) => s.has(id)); }, 40_000, "every acknowledged event in a file");
    expect(acked.size).toBe(6000);
  });

  it("kill -9 while uploading to S3 loses nothing, and every object in the bucket is a whole Avro file", async () => {
    const root = tempDir("s3rver-kill-");
    const dataDir = tempDir();
    cleanup.push(() => rmSync(root, { recursive: true, force: true }), () => rmSync(dataDir, { recursive: true, force: true }));
    const s3rver = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: root });
    const { port } = await s3rver.run();
    cleanup.push(() => s3rver.close());
    const endpoint = `http://127.0.0.1:${port}`;
    const client = new S3Client({ region: "us-east-1", endpoint, forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
    await client.send(new CreateBucketCommand({ Bucket: "lake" }));
    const box = { child: await startChild(dataDir) };
    cleanup.push(() => { box.child.proc.kill("SIGKILL"); });
    const api = async (method: string, path: string, body?: unknown, token = ADMIN) => {
      const res = await fetch(`${box.child.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const settings = { target: "s3", bucket: "lake", endpoint, forcePathStyle: true, accessKeyId: "S3RVER", secretAccessKey: "S3RVER", flushSeconds: 1, flushEvents: 300 };
    const created = await api("POST", "/api/v1/currents", { name: "s3", partner: "storage", settings, events: TYPES });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await api("POST", `/api/v1/currents/${created.body.id}/launch`);
    const acked = new Set<string>();
    const objects = async () => ((await client.send(new ListObjectsV2Command({ Bucket: "lake" }))).Contents ?? []).map((o) => o.Key as string);
    for (let b = 0; b < 10; b++) {
      const batch = events(400, `s${b}`);
      if ((await api("POST", "/v1/events", { events: batch }, INGEST)).status === 200) for (const e of batch) acked.add(e.id as string);
      if (b === 5) {
        await waitFor(async () => (await objects()).length > 0, 15_000, "some files uploaded before the kill");
        box.child.proc.kill("SIGKILL");
        await exited(box.child.proc);
        box.child = await startChild(dataDir);
      }
    }
    const read = async () => {
      const seen = new Set<string>();
      for (const key of await objects()) {
        const obj = await client.send(new GetObjectCommand({ Bucket: "lake", Key: key }));
        const { records } = await readAvro(Buffer.from(await (obj.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()));
        expect(records.length, key).toBeGreaterThan(0);
        for (const r of records) seen.add(String(r.id));
      }
      return seen;
    };
    await waitFor(async () => { const s = await read(); return [...acked].every((id) => s.has(id)); }, 40_000, "every acknowledged event in an object");
    expect(acked.size).toBe(4000);
  }, 90_000);
});
