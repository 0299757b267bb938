import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { sweepRecords } from "../../src/store/retention.js";
import type { SqliteEventLog } from "../../src/store/sqlite/event-log.js";
import { exited, startChild } from "../support/child-service.js";
import { INGEST, closedAfterEach, launchCurrent, tempDir, waitFor } from "../support/harness.js";

/** SPEC section 10: a store that fails never crashes the process, and everything resumes by itself. */
const use = closedAfterEach();
const TYPE = "users.messages.email.Send";
const events = (n: number, prefix: string, pad = 0) => Array.from({ length: n }, (_, i) => ({ ...sampleEvent(TYPE, { id: `${prefix}-${i}`, n: i }), pad: "x".repeat(pad) }));

describe("the embedded store's writer thread", () => {
  it("dies: /readyz says so, ingest answers 503 meanwhile, the writer comes back, nothing acknowledged is lost", async () => {
    const receiver = await use.receiver();
    const svc = await use.service();
    await launchCurrent(svc, receiver.url, [TYPE]);
    const acked = new Set<string>();
    const send = async (batch: ReturnType<typeof events>) => {
      const r = await svc.ingest(batch);
      if (r.status === 200) for (const e of batch) acked.add((e as Record<string, unknown>).id as string);
      return r.status;
    };
    expect(await send(events(50, "before"))).toBe(200);
    const log = svc.app.services.store.events as SqliteEventLog;
    const statuses = new Set<number>();
    const readiness = new Set<number>();
    await log.terminateWriter();
    for (let i = 0; i < 40; i++) {
      statuses.add(await send(events(10, `during-${i}`)));
      readiness.add((await fetch(`${svc.url}/readyz`)).status);
      if (statuses.has(200) && statuses.has(503) && readiness.has(503) && readiness.has(200)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect([...statuses].sort()).toEqual([200, 503]);
    expect(readiness.has(503)).toBe(true);
    await waitFor(async () => (await fetch(`${svc.url}/readyz`)).status === 200, 10_000, "ready again");
    expect(await send(events(50, "after"))).toBe(200);
    await waitFor(() => [...acked].every((id) => receiver.events().some((e) => e.id === id)), 15_000, "every acknowledged event delivered");
  });
});

describe("one process per data directory", () => {
  it("a second process on the same data dir refuses to start, naming the first; kill -9 frees it", async () => {
    const dir = tempDir();
    use.add(() => rmSync(dir, { recursive: true, force: true }));
    const first = await startChild(dir);
    use.add(() => { first.proc.kill("SIGKILL"); });
    const second = await startChild(dir).then(() => "started", (e: Error) => e.message);
    expect(second).toMatch(new RegExp(`in use by another Currents process \\(pid ${first.proc.pid} `));
    // The store is readable by its owner only.
    expect(statSync(join(dir, "currents.db")).mode & 0o777).toBe(0o600);
    first.proc.kill("SIGKILL");
    await exited(first.proc);
    const third = await startChild(dir);
    third.proc.kill("SIGTERM");
    const end = await exited(third.proc);
    expect(end, third.output()).toBe(0);
  });
});

describe("a full disk", () => {
  it("ingest answers 507 with Retry-After, /readyz 503, nothing crashes (a partner refusing an event meanwhile), and all resumes when space is back", async () => {
    const mount = tempDir("currents-fulldisk-");
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=12m", "tmpfs", mount]);
    if (mounted.status !== 0) {
      // Mounting needs root (CI runs as root): elsewhere this test cannot run, and says so.
      if (process.env.CI) throw new Error(`cannot mount a small tmpfs for the full-disk test: ${mounted.stderr}`);
      console.warn(`full-disk test skipped: cannot mount a tmpfs here (${String(mounted.stderr).trim()})`);
      return;
    }
    use.add(() => { spawnSync("umount", ["-l", mount]); rmSync(mount, { recursive: true, force: true }); });
    const dataDir = join(mount, "data");
    mkdirSync(dataDir);
    const filler = join(mount, "filler");
    writeFileSync(filler, Buffer.alloc(3 * 1024 * 1024)); // space to give back later
    const receiver = await use.receiver((r) => (r.events.some((e) => String(e.id).startsWith("poison")) ? { status: 400 } : { status: 200 }));
    const svc = await use.service({ dataDir });
    const id = await launchCurrent(svc, receiver.url, [TYPE]);
    const acked = new Set<string>();
    let full: Awaited<ReturnType<typeof svc.ingest>> | undefined;
    for (let i = 0; i < 200 && !full; i++) {
      const batch = [...events(20, `fill-${i}`, 2_000), ...(i === 5 ? [{ ...sampleEvent(TYPE, { id: "poison-1" }) }] : [])];
      const r = await svc.ingest(batch);
      if (r.status === 200) for (const e of batch) acked.add((e as Record<string, unknown>).id as string);
      else full = r;
    }
    expect(full?.status).toBe(507);
    expect(full?.headers.get("retry-after")).toBe("30");
    expect(full?.body.error.code).toBe("insufficient_storage");
    expect((await fetch(`${svc.url}/readyz`)).status).toBe(503);
    await new Promise((r) => setTimeout(r, 500)); // delivery and dead letters meet the full disk too
    rmSync(filler);
    await waitFor(async () => (await svc.ingest(events(5, "room-again"))).status === 200, 15_000, "ingest to work again");
    for (let i = 0; i < 5; i++) acked.add(`room-again-${i}`);
    await waitFor(async () => (await fetch(`${svc.url}/readyz`)).status === 200, 10_000, "ready again");
    await waitFor(() => [...acked].every((e) => e.startsWith("poison") || receiver.events().some((r) => r.id === e)), 30_000, "every acknowledged event delivered");
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.deadLettered >= 1, 15_000, "the dead letter");
    const stats = (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats;
    expect(stats.deadLetteredTotal).toBe(stats.deadLettered);
  });

  it("answers 507 while free space is under the reserve", async () => {
    const svc = await use.service({ config: { minFreeDiskBytes: Number.MAX_SAFE_INTEGER } });
    const r = await svc.ingest(events(1, "reserve"));
    expect(r.status).toBe(507);
    expect(r.headers.get("retry-after")).toBe("30");
    expect(r.body.error.message).toMatch(/under its reserve/);
  });
});

describe("the backlog limit counts what waits, not what is kept", () => {
  it("a steady stream with a short backlog limit never gets a 429 while its Current keeps up", async () => {
    const receiver = await use.receiver();
    const svc = await use.service({ config: { maxBacklogEvents: 100 } });
    const id = await launchCurrent(svc, receiver.url, [TYPE]);
    for (let i = 0; i < 30; i++) {
      const r = await svc.ingest(events(20, `steady-${i}`));
      expect(r.status, `request ${i}`).toBe(200);
      await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.pending === 0, 5_000, "delivery");
    }
    // Without any active Current nothing waits, whatever is retained.
    await svc.admin("POST", `/api/v1/currents/${id}/pause`);
    for (let i = 0; i < 10; i++) expect((await svc.ingest(events(20, `kept-${i}`))).status).toBe(200);
  });
});

describe("retention of dead letters, history, audit and attempts", () => {
  it("each ages out after its own window; an expired dead letter is counted", async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    const receiver = await use.receiver(() => ({ status: 400 }));
    const svc = await use.service({ app: { now } });
    const id = await launchCurrent(svc, receiver.url, [TYPE]);
    await svc.ingest(events(1, "dl"));
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.deadLettered === 1, 10_000, "a dead letter");
    const { store, config } = svc.app.services;
    const sweep = () => sweepRecords({ store, logger: pino({ level: "silent" }), now, deadLetterRetentionMs: config.deadLetterRetentionMs, historyRetentionMs: config.historyRetentionMs, auditRetentionMs: config.auditRetentionMs, attemptRetentionMs: config.attemptRetentionMs });
    expect((await svc.admin("GET", `/api/v1/currents/${id}/attempts`)).body.attempts.length).toBeGreaterThan(0);
    expect(await sweep()).toEqual({ deadLetters: 0, history: 0, audit: 0, attempts: 0 });
    offset = 8 * 86_400_000;
    const aged = await sweep();
    expect(aged.deadLetters).toBe(0);
    expect(aged.attempts).toBeGreaterThan(0);
    expect((await svc.admin("GET", `/api/v1/currents/${id}/attempts`)).body.attempts).toEqual([]);
    offset = 31 * 86_400_000;
    expect((await sweep()).deadLetters).toBe(1);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.expired === 1, 5_000, "the expired count");
    offset = 91 * 86_400_000;
    expect((await sweep()).history).toBeGreaterThan(0);
    expect((await svc.admin("GET", `/api/v1/currents/${id}/history`)).body.history).toEqual([]);
    offset = 366 * 86_400_000;
    expect((await sweep()).audit).toBeGreaterThan(0);
    void INGEST;
  });
});
