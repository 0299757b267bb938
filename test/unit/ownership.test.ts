import { rmSync } from "node:fs";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { CurrentRecord } from "../../src/currents/model.js";
import { type OwnedWorkers, Ownership } from "../../src/delivery/ownership.js";
import type { Store } from "../../src/store/port.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { tempDir } from "../support/harness.js";

const logger = pino({ level: "silent" });
const current = (id: string, status: CurrentRecord["status"] = "active", updatedAt = 1): CurrentRecord => ({
  id, workspace: "w", name: id, partner: "heap", contactEmail: null, settings: {}, secretsEnc: null, secretHints: {}, events: ["t"],
  transformations: [], batching: {}, status, statusReason: null, statusSince: 1, createdAt: 1, updatedAt, launchedAt: 1, version: 1,
});

/** Workers as the engine would run them, recorded instead of delivering. */
function fakeWorkers(): OwnedWorkers & { ids(): string[] } {
  const running = new Map<string, CurrentRecord>();
  return {
    running: () => running,
    startWorker: async (c) => { running.set(c.id, c); },
    stopWorker: async (id) => { running.delete(id); },
    startFailed: () => undefined,
    ids: () => [...running.keys()].sort(),
  };
}

describe("Ownership: which process delivers which Current", () => {
  let dir: string;
  let store: Store;
  afterEach(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  /** A fresh store holding these Currents. */
  async function openWith(...currents: CurrentRecord[]): Promise<void> {
    dir = tempDir("ownership-");
    store = openSqliteStore({ dataDir: dir, dedupeWindowMs: 1000 });
    await store.config.ensureWorkspace("w", 1);
    for (const c of currents) await store.config.insertCurrent(c, { ackedSeq: 0, delivered: 0, failedAttempts: 0, deadLettered: 0, expired: 0, valuesCut: 0, lastDeliveredAt: null, lastError: null, lastErrorAt: null });
  }

  it("spreads Currents evenly, never gives one to two processes, and moves a dead process's Currents after its lease", async () => {
    await openWith(...["a", "b", "c", "d"].map((id) => current(id)), current("paused", "paused"));
    let now = 1_000_000;
    const clock = () => now;
    const leaseMs = 1_000;
    const p1 = new Ownership({ store, leaseMs, logger, now: clock });
    const p2 = new Ownership({ store, leaseMs, logger, now: clock });
    const w1 = fakeWorkers();
    const w2 = fakeWorkers();

    await p1.sync(w1); // alone: takes everything active
    expect(w1.ids()).toEqual(["a", "b", "c", "d"]);
    await p2.sync(w2); // a second process joins: nothing is free yet
    expect(w2.ids()).toEqual([]);
    await p1.sync(w1); // p1 sees two members and lets go of its extras
    expect(w1.ids()).toHaveLength(2);
    await p2.sync(w2);
    expect(w2.ids()).toHaveLength(2);
    expect(new Set([...w1.ids(), ...w2.ids()])).toEqual(new Set(["a", "b", "c", "d"]));

    // A Current changed through the other process restarts with its new settings.
    const moved = w2.ids()[0] as string;
    await store.config.updateCurrent(current(moved, "active", 2));
    await p2.sync(w2);
    expect(w2.running().get(moved)?.updatedAt).toBe(2);

    // p1 dies (stops syncing). Until its leases expire p2 cannot take its Currents...
    const orphans = w1.ids();
    await p2.sync(w2);
    expect(w2.ids()).toHaveLength(2);
    // ...after they expire (the store's clock: real time for the embedded store), p2 takes them.
    await new Promise((r) => setTimeout(r, leaseMs + 50));
    now += leaseMs + 50;
    await p2.sync(w2);
    expect(w2.ids()).toEqual(["a", "b", "c", "d"]);
    for (const id of orphans) expect(w2.ids()).toContain(id);
  });

  it("stops a Current's worker when its lease could not be renewed in time (self-fencing)", async () => {
    await openWith(current("a"));
    let now = 0;
    const p = new Ownership({ store, leaseMs: 10_000, logger, now: () => now });
    const w = fakeWorkers();
    await p.sync(w);
    expect(w.ids()).toEqual(["a"]);
    // The database stops answering; 8 s later (80 % of the lease) the worker is stopped.
    const leases = store.leases;
    (store as { leases: unknown }).leases = { acquire: async () => { throw new Error("database unreachable"); }, release: leases.release.bind(leases), live: leases.live.bind(leases) };
    now = 5_000;
    await p.sync(w);
    expect(w.ids()).toEqual(["a"]);
    now = 8_001;
    await p.sync(w);
    expect(w.ids()).toEqual([]);
    (store as { leases: unknown }).leases = leases;
  });

  it("fences itself even when the store hangs (no answer at all), and counts a renewal from when it was asked", async () => {
    await openWith(current("a"));
    const leaseMs = 1_500;
    const p = new Ownership({ store, leaseMs, logger, now: Date.now });
    const w = fakeWorkers();
    const leases = store.leases;
    // A slow answer: the renewal counts from when it was asked.
    let asked = 0;
    (store as { leases: unknown }).leases = { ...leases, acquire: async (...args: Parameters<typeof leases.acquire>) => {
      if (args[0] === "current:a") asked = Date.now();
      await new Promise((r) => setTimeout(r, 200));
      return leases.acquire(...args);
    }, release: leases.release.bind(leases), live: leases.live.bind(leases) };
    await p.sync(w);
    expect(w.ids()).toEqual(["a"]);
    await new Promise((r) => setTimeout(r, Math.max(0, asked + leaseMs * 0.8 - Date.now()) + 20));
    expect(p.holds("a")).toBe(false); // 80 % of the lease after it was asked, not answered
    // Now the store hangs for good: sync still returns, and the worker is stopped.
    (store as { leases: unknown }).leases = { acquire: () => new Promise(() => undefined), release: async () => undefined, live: () => new Promise(() => undefined) };
    const started = Date.now();
    await p.sync(w);
    expect(Date.now() - started).toBeLessThan(leaseMs);
    expect(w.ids()).toEqual([]);
    (store as { leases: unknown }).leases = leases;
  });

  it("a sync pass that gave up waiting for the store starts nothing when the store answers late", async () => {
    await openWith(current("a"));
    const leaseMs = 600;
    const p = new Ownership({ store, leaseMs, logger, now: Date.now });
    const w = fakeWorkers();
    const config = store.config;
    const list = config.listCurrents.bind(config);
    (config as { listCurrents: unknown }).listCurrents = async (ws?: string) => {
      await new Promise((r) => setTimeout(r, leaseMs)); // answers after the sync gave up (half the lease)
      return list(ws);
    };
    await p.sync(w);
    expect(w.ids()).toEqual([]);
    await new Promise((r) => setTimeout(r, leaseMs)); // the late pass runs to its end meanwhile
    expect(w.ids()).toEqual([]); // it claimed and started nothing
    expect((await store.leases.live("current:")).map((l) => l.name)).toEqual([]);
    (config as { listCurrents: unknown }).listCurrents = list;
  });

  it("a sync pass that gave up waiting never takes back a lease let go meanwhile (a deleted Current)", async () => {
    await openWith(current("a"));
    const leaseMs = 1_000;
    const p = new Ownership({ store, leaseMs, logger, now: Date.now });
    const w = fakeWorkers();
    await p.sync(w);
    expect(w.ids()).toEqual(["a"]);
    const leases = store.leases;
    (store as { leases: unknown }).leases = { ...leases, acquire: async (...args: Parameters<typeof leases.acquire>) => {
      if (args[0] === "current:a") await new Promise((r) => setTimeout(r, leaseMs * 0.7)); // the renewal lands after the sync gave up
      return leases.acquire(...args);
    }, release: leases.release.bind(leases), live: leases.live.bind(leases) };
    await p.sync(w); // gives up at half the lease; its renewal of "a" is still on its way
    // The Current is deleted meanwhile: its worker stops and its lease is let go.
    await w.stopWorker("a", 0);
    await p.release("a");
    await new Promise((r) => setTimeout(r, leaseMs * 0.4)); // the late renewal has landed (before the lease would expire)
    expect((await leases.live("current:")).map((l) => l.name)).toEqual([]);
    (store as { leases: unknown }).leases = leases;
  });

  it("a deleted Current keeps no lease, even when a renewal asked before the delete reaches the store after it", async () => {
    await openWith(current("a"));
    const leaseMs = 1_000;
    const p = new Ownership({ store, leaseMs, logger, now: Date.now });
    const leases = store.leases;
    let slow = false;
    (store as { leases: unknown }).leases = { ...leases, acquire: async (...args: Parameters<typeof leases.acquire>) => {
      if (slow) await new Promise((r) => setTimeout(r, 300)); // a renewal queued behind a slow connection
      return leases.acquire(...args);
    }, release: leases.release.bind(leases), live: leases.live.bind(leases) };
    expect(await p.claim("a")).toBe(true);
    slow = true;
    const renewal = p.claim("a"); // on its way
    await new Promise((r) => setTimeout(r, 50));
    await p.forget("a"); // the Current is deleted meanwhile
    expect((await leases.live("current:")).map((l) => l.name)).toEqual([]);
    expect(await renewal).toBe(false);
    expect(await p.claim("a")).toBe(false); // never again
    expect((await leases.live("current:")).map((l) => l.name)).toEqual([]);
    (store as { leases: unknown }).leases = leases;
  });
});
