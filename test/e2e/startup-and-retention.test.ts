import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { sweepRetention } from "../../src/store/retention.js";
import { type Service, launchCurrent, startService, tempDir, waitFor } from "../support/harness.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

const BIN = fileURLToPath(new URL("../../bin/currents.js", import.meta.url));
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [BIN, ...args], { env: { ...process.env, CURRENTS_LOG_LEVEL: "silent", ...env }, encoding: "utf8", timeout: 15_000 });

describe("currents start: clear start-up errors", () => {
  it("reports every configuration problem at once", () => {
    const r = run(["start", "--port", "99999"], { CURRENTS_ADMIN_TOKEN: "short", CURRENTS_RETENTION_DAYS: "zero", CURRENTS_MASTER_KEY: "nope" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--port must be an integer between 0 and 65535/);
    expect(r.stderr).toMatch(/CURRENTS_ADMIN_TOKEN must be at least 16 characters/);
    expect(r.stderr).toMatch(/CURRENTS_RETENTION_DAYS must be an integer/);
    expect(r.stderr).toMatch(/CURRENTS_MASTER_KEY must be 32 bytes/);
  });

  it("server mode: needs the master key, and says (without the password) when the database is unreachable", () => {
    const noKey = run(["start"], { DATABASE_URL: "postgres://u:pw@127.0.0.1:5432/x", CURRENTS_MASTER_KEY: "" });
    expect(noKey.status).toBe(2);
    expect(noKey.stderr).toMatch(/DATABASE_URL \(server mode\) needs CURRENTS_MASTER_KEY/);
    const dir = tempDir();
    try {
      const r = run(["start", "--port", "0", "--data-dir", dir], { DATABASE_URL: "postgres://u:secret-db-password@127.0.0.1:1/x", CURRENTS_MASTER_KEY: "ab".repeat(32) });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/could not prepare the database: .*ECONNREFUSED/);
      expect(r.stderr + r.stdout).not.toContain("secret-db-password");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    const dir = tempDir();
    try {
      const r = run(["start", "--port", String(port), "--data-dir", dir]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`port ${port} on 127.0.0.1 is already in use`));
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says when the data dir is not writable", () => {
    if (process.getuid?.() === 0) {
      // root writes anywhere: use a path under a regular file instead
      const dir = tempDir();
      const file = join(dir, "file");
      spawnSync("touch", [file]);
      const r = run(["start", "--data-dir", join(file, "data")]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/data dir .* is not writable/);
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    const dir = tempDir();
    mkdirSync(join(dir, "ro"));
    chmodSync(join(dir, "ro"), 0o500);
    const r = run(["start", "--data-dir", join(dir, "ro")]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/is not writable/);
  });

  it("rejects unknown flags and commands with usage", () => {
    expect(run(["start", "--nope"]).status).toBe(2);
    const r = run(["frobnicate"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
  });
});

describe("retention", () => {
  let svc: Service | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await svc?.close();
    await receiver?.close();
  });

  it("removes events past the window, counts the undelivered ones as expired, and forgets old ids", async () => {
    let offset = 0;
    const now = () => Date.now() + offset;
    receiver = await startReceiver();
    svc = await startService({ app: { now } });
    const id = await launchCurrent(svc, receiver.url, ["users.messages.email.Send"]);
    await svc.admin("POST", `/api/v1/currents/${id}/pause`);
    const old = Array.from({ length: 30 }, (_, n) => sampleEvent("users.messages.email.Send", { id: `old-${n}` }));
    await svc.ingest(old);
    await svc.ingest([sampleEvent("users.messages.sms.Send", { id: "not-selected" })]);
    offset += 8 * 86_400_000; // 8 days later
    await svc.ingest([sampleEvent("users.messages.email.Send", { id: "young" })]);
    const { store, config, engine } = svc.app.services;
    const result = await sweepRetention({
      store, logger: pino({ level: "silent" }), retentionMs: config.retentionMs, dedupeWindowMs: config.dedupeWindowMs, now,
      beforeSweep: () => engine.flushProgress(),
    });
    expect(result).toMatchObject({ deleted: 31, expired: 30 });
    expect(result.forgottenIds).toBe(31);
    expect(await store.events.size()).toBe(1);
    const stats = (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats;
    expect(stats).toMatchObject({ expired: 30, pending: 1 });
    // An id past the dedupe window can be stored again.
    expect((await svc.ingest([old[0]])).body).toMatchObject({ accepted: 1, duplicates: 0 });
    await svc.admin("POST", `/api/v1/currents/${id}/resume`);
    await waitFor(() => receiver!.events().length === 2);
    expect(receiver.events().map((e) => e.id).sort()).toEqual(["old-0", "young"]);
  });
});
