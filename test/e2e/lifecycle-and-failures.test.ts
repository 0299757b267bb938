import Database from "better-sqlite3";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import type { RetryPolicy } from "../../src/delivery/retry-policy.js";
import { type ReceivedRequest } from "../support/receiver.js";
import { closedAfterEach, launchCurrent, waitFor } from "../support/harness.js";

/** SPEC section 10: no user action skips or re-sends a backlog, and no store failure crashes or sticks a Current. */
const use = closedAfterEach();
const TYPE = "users.messages.email.Send";
const events = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => sampleEvent(TYPE, { id: `${prefix}-${i}`, n: i }));
const fastRetries: RetryPolicy = { baseDelayMs: 20, maxDelayMs: 200, multiplier: 2, jitterRatio: 0.2, maxRetryAfterMs: 3_600_000 };

describe("user actions never skip a backlog", () => {
  it("launching a paused Current answers 409 and moves nothing: its backlog is delivered on resume", async () => {
    const receiver = await use.receiver();
    const svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, [TYPE]);
    await svc.admin("POST", `/api/v1/currents/${id}/pause`);
    await svc.ingest(events(20, "p"));
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.pending === 20, 5_000, `20 pending`);
    const launch = await svc.admin("POST", `/api/v1/currents/${id}/launch`);
    expect(launch.status).toBe(409);
    expect((await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.pending).toBe(20);
    await svc.admin("POST", `/api/v1/currents/${id}/resume`);
    await waitFor(() => new Set(receiver.events().map((e) => e.id)).size === 20, 10_000, "the backlog after resume");
  });

  it("a pause racing an update or the partner's refusal always ends paused (compare-and-set)", async () => {
    const receiver = await use.receiver();
    const svc = await use.service();
    const currents = svc.app.services.currents;
    const config = svc.app.services.store.config;
    const getCurrent = config.getCurrent.bind(config);
    for (const racer of ["update", "markFailing"] as const) {
      const id = await launchCurrent(svc, receiver.url, [TYPE]);
      // The racer reads the Current (active), then the pause lands before it writes.
      let slowNext = true;
      config.getCurrent = async (cid) => {
        const c = await getCurrent(cid);
        if (slowNext) {
          slowNext = false;
          await new Promise((r) => setTimeout(r, 150));
        }
        return c;
      };
      const racing = racer === "update" ? currents.update(id, { name: "renamed" }) : currents.markFailing(id, "HTTP 401");
      await new Promise((r) => setTimeout(r, 30));
      await currents.pause(id);
      await racing.catch(() => undefined);
      config.getCurrent = getCurrent;
      const after = await currents.get(id);
      expect(after.status, racer).toBe("paused");
      expect(svc.app.services.engine.delivers(id), racer).toBe(false);
      if (racer === "update") expect(after.name).toBe("renamed");
    }
  });

  it("never starts a worker for a Current without its delivery position (it would resend the whole log)", async () => {
    const receiver = await use.receiver();
    const svc = await use.service();
    await svc.ingest(events(30, "old")); // retained history
    const id = await launchCurrent(svc, receiver.url, [TYPE]);
    await svc.admin("POST", `/api/v1/currents/${id}/pause`);
    const db = new Database(join(svc.dataDir, "currents.db"));
    db.prepare("DELETE FROM current_progress WHERE current_id = ?").run(id);
    db.close();
    await svc.app.services.currents.resume(id);
    await new Promise((r) => setTimeout(r, 300));
    expect(svc.app.services.engine.delivers(id)).toBe(false);
    expect(receiver.requests.length).toBe(0);
  });
});

describe("store failures in the delivery path", () => {
  it("a dead letter that cannot be stored is retried, shown in lastError, and never crashes the process", async () => {
    const receiver = await use.receiver((r) => (r.events.some((e) => e.id === "d-3") ? { status: 400, body: "bad d-3" } : { status: 200 }));
    const svc = await use.service({ app: { retryPolicy: fastRetries } });
    const letters = svc.app.services.store.deadLetters;
    const add = letters.add.bind(letters);
    let failures = 0;
    letters.add = async (l) => {
      if (failures++ < 2) throw new Error("SQLITE_BUSY: database is locked");
      return add(l);
    };
    const id = await launchCurrent(svc, receiver.url, [TYPE], { batching: { lingerMs: 20 } });
    await svc.ingest(events(10, "d"));
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.lastError?.includes("could not store a dead letter") === true, 10_000, "the failure to show");
    await waitFor(async () => {
      const { stats } = (await svc.admin("GET", `/api/v1/currents/${id}`)).body;
      return stats.deadLettered === 1 && stats.deadLetteredTotal === 1 && stats.pending === 0 && stats.delivered === 9;
    }, 15_000, "the dead letter stored once the store answers, the rest delivered");
  });

  it("a Current whose worker cannot start (unknown partner) is shown as such and holds nobody else back", async () => {
    const good = await use.receiver();
    const svc = await use.service();
    const goodId = await launchCurrent(svc, good.url, [TYPE]);
    const badId = await launchCurrent(svc, good.url, [TYPE]);
    await svc.app.services.engine.refresh(badId);
    const db = new Database(join(svc.dataDir, "currents.db"));
    db.prepare("UPDATE currents SET partner = 'from_the_future', updated_at = updated_at + 1 WHERE id = ?").run(badId);
    db.close();
    await svc.app.services.engine.refresh(badId);
    await svc.ingest(events(5, "g"));
    await waitFor(() => good.events().length >= 5, 10_000, "the good Current to deliver");
    await waitFor(async () => ((await svc.app.services.store.config.getProgress(badId))?.lastError ?? "").includes("unknown partner"), 5_000, "the bad Current's error");
    expect(svc.app.services.engine.delivers(badId)).toBe(false);
    const leases = (await svc.admin("GET", "/api/v1/cluster")).body.currents.map((c: { currentId: string }) => c.currentId);
    expect(leases).toContain(goodId);
    expect(leases).not.toContain(badId);
  });
});

describe("partners that misbehave", () => {
  it("a Retry-After holds every request of the Current, not only the batch that got it", async () => {
    let t429 = 0;
    const receiver = await use.receiver((_r, i) => {
      if (i === 0) {
        t429 = Date.now();
        return { status: 429, headers: { "retry-after": "2" } };
      }
      return t429 > 0 && Date.now() - t429 < 1_900 ? { status: 503 } : { status: 200 };
    });
    const svc = await use.service({ app: { retryPolicy: fastRetries } });
    await launchCurrent(svc, receiver.url, [TYPE], { batching: { lingerMs: 5, maxBatchEvents: 5, maxInFlight: 4 } });
    await svc.ingest(events(40, "h"));
    await waitFor(() => new Set(receiver.events().map((e) => e.id)).size === 40, 15_000, "everything after the hold");
    const during = receiver.requests.filter((r: ReceivedRequest) => r.at > t429 + 100 && r.at < t429 + 1_900);
    expect(during.length).toBe(0);
  });

  it("a 2xx whose body never ends settles the batch: nothing is sent twice", async () => {
    const receiver = await use.receiver(() => ({
      answer: (res) => {
        res.writeHead(200, { "content-type": "application/json" });
        const trickle = setInterval(() => res.write(" "), 100);
        res.on("close", () => clearInterval(trickle));
      },
    }));
    const svc = await use.service({ app: { retryPolicy: fastRetries } });
    const id = await launchCurrent(svc, receiver.url, [TYPE], { batching: { lingerMs: 5, requestTimeoutMs: 1_000 } });
    await svc.ingest(events(10, "t"));
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered === 10, 10_000, "delivered");
    await new Promise((r) => setTimeout(r, 1_500));
    expect(receiver.events().length).toBe(10);
  });
});

describe("more failures that must not stick a Current", () => {
  it("the partner refusing the credentials while the store cannot record it: the Current still ends up failing", async () => {
    const receiver = await use.receiver(() => ({ status: 401 }));
    const svc = await use.service();
    const config = svc.app.services.store.config;
    const id = await launchCurrent(svc, receiver.url, [TYPE]);
    const update = config.updateCurrent.bind(config);
    let refusals = 2;
    config.updateCurrent = async (c, seq) => {
      if (c.id === id && refusals-- > 0) throw Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
      return update(c, seq);
    };
    await svc.ingest(events(3, "f"));
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.status === "failing", 15_000, "failing despite two store errors");
    expect(svc.app.services.engine.delivers(id)).toBe(false);
  });

  it("redrives all of more than 100,000 dead letters, paging through them", async () => {
    const receiver = await use.receiver();
    const svc = await use.service();
    const id = await launchCurrent(svc, receiver.url, [TYPE], { batching: { maxBatchEvents: 1000 } });
    const db = new Database(join(svc.dataDir, "currents.db"));
    const insert = db.prepare("INSERT INTO dead_letters (current_id, seq, body, status, reason, excerpt, created_at) VALUES (?, ?, ?, 400, 'refused', '', ?)");
    const total = 100_050;
    db.transaction(() => {
      for (let i = 0; i < total; i++) insert.run(id, i + 1, `{"event_type":"${TYPE}","id":"dl-${i}","time":1}`, Date.now());
      db.prepare("UPDATE current_progress SET dead_lettered = dead_lettered + ? WHERE current_id = ?").run(total, id); // as the store counts them
    })();
    db.close();
    const started = await svc.admin("POST", `/api/v1/currents/${id}/dead-letters/redrive`, {});
    expect(started.status).toBe(202);
    expect(started.body.redrive.total).toBe(total);
    await waitFor(() => receiver.events().length >= total, 60_000, "every dead letter sent again");
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.deadLettered === 0, 10_000, "no dead letter left");
    expect(new Set(receiver.events().map((e) => e.id)).size).toBe(total);
  }, 90_000);
});

describe("one event never takes the service down", () => {
  it("an event stored before depth limits, 4,200 levels deep, reaches a Current with transformations; HTTP stays up", async () => {
    const { rmSync } = await import("node:fs");
    const { startChild, exited } = await import("../support/child-service.js");
    const { tempDir, ADMIN } = await import("../support/harness.js");
    const receiver = await use.receiver();
    const dir = tempDir();
    use.add(() => rmSync(dir, { recursive: true, force: true }));
    let child = await startChild(dir);
    use.add(() => { child.proc.kill("SIGKILL"); });
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${child.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: r.status, body: (await r.json().catch(() => undefined)) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const created = await api("POST", "/api/v1/currents", { name: "T", partner: "custom_http", settings: { endpoint: receiver.url }, events: [TYPE], transformations: [{ field: "email_address", action: "hash" }] });
    await api("POST", `/api/v1/currents/${created.body.id}/launch`);
    child.proc.kill("SIGTERM");
    await exited(child.proc);
    const db = new Database(join(dir, "currents.db"));
    const deepBody = `{"event_type":"${TYPE}","id":"legacy-deep","time":1,"properties":{"email_address":"a@b","nest":${'{"a":'.repeat(4_200)}1${"}".repeat(4_200)}}}`;
    db.prepare("INSERT INTO events (workspace_id, event_type, received_at, body) VALUES ('default', ?, ?, ?)").run(TYPE, Date.now(), deepBody);
    db.prepare("INSERT INTO events (workspace_id, event_type, received_at, body) VALUES ('default', ?, ?, '[\"not an object\"]')").run(TYPE, Date.now());
    db.close();
    child = await startChild(dir);
    await waitFor(() => receiver.events().some((e) => e.id === "legacy-deep"), 10_000, "the deep event delivered, transformed");
    const delivered = receiver.requests.map((r) => r.raw).join("");
    expect(delivered).not.toContain('"email_address":"a@b"');
    expect((await fetch(`${child.url}/healthz`)).status).toBe(200);
    await waitFor(async () => (await api("GET", `/api/v1/currents/${created.body.id}`)).body.stats.deadLettered === 1, 10_000, "the non-object event dead-lettered");
    const letters = (await api("GET", `/api/v1/currents/${created.body.id}/dead-letters`)).body.deadLetters;
    expect(letters[0].reason).toMatch(/could not apply the field transformations/);
  });
});
