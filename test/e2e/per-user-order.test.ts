import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { exited, startChild } from "../support/child-service.js";
import { ADMIN, INGEST, tempDir, waitFor } from "../support/harness.js";
import { NATS_URL, deleteStreams, freshStreamName } from "../support/nats.js";
import { createDatabase, dropDatabase } from "../support/postgres.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

const TYPE = "users.messages.email.Send";
const USERS = 30;
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

/** A deterministic pseudo-random sequence (the chaos is the same on every run). */
function prng(seed: number) {
  let x = seed;
  return () => ((x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32;
}

describe.each(["embedded", "postgres", "jetstream"] as const)("per-user order on the %s store", (store) => {
  it("keeps each user's events in acceptance order through 500s, 413 halving, a refused event and a kill -9", async () => {
    const random = prng({ embedded: 7, postgres: 11, jetstream: 13 }[store]);
    // The partner: 500 for a fifth of the batches, 413 for a tenth of those above 5 events, 400 for the poison event.
    const ok = new Set<number>();
    const receiver: Receiver = await startReceiver((r, index) => {
      if (r.events.some((e) => e.id === "u7-poison")) return { status: 400, body: "bad event" };
      const roll = random();
      if (roll < 0.15) return { status: 500 };
      if (roll < 0.3 && r.events.length > 5) return { status: 413 };
      ok.add(index);
      return { status: 200 };
    });
    const accepted = () => receiver.acceptedEvents((_, i) => ok.has(i));
    cleanup.push(() => receiver.close());
    const dataDir = tempDir();
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    let env: Record<string, string> = {};
    if (store !== "embedded") {
      const db = await createDatabase();
      cleanup.push(() => dropDatabase(db.name));
      env = { DATABASE_URL: db.url, CURRENTS_MASTER_KEY: "cd".repeat(32), CURRENTS_LEASE_MS: "2000" };
    }
    if (store === "jetstream") {
      const stream = freshStreamName();
      cleanup.push(() => deleteStreams([stream]));
      env = { ...env, CURRENTS_NATS_URL: NATS_URL, CURRENTS_NATS_STREAM: stream, CURRENTS_NATS_PARTITIONS: "8" };
    }
    const box = { child: await startChild(dataDir, env) };
    cleanup.push(() => { box.child.proc.kill("SIGKILL"); });
    const api = async (method: string, path: string, body?: unknown, token = ADMIN) => {
      const res = await fetch(`${box.child.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const created = await api("POST", "/api/v1/currents", { name: "ordered", partner: "custom_http", settings: { endpoint: receiver.url }, events: [TYPE], ordering: "per_user", batching: { maxBatchEvents: 20, lingerMs: 5 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.ordering).toBe("per_user");
    expect((await api("POST", `/api/v1/currents/${created.body.id}/launch`)).status).toBe(200);

    const acked: string[] = [];
    for (let b = 0; b < 12; b++) {
      const events = Array.from({ length: 50 }, (_, i) => {
        const n = b * 50 + i;
        const user = n % USERS;
        const id = b === 5 && user === 7 && i < USERS ? "u7-poison" : `u${user}-${String(n).padStart(5, "0")}`;
        const e = sampleEvent(TYPE, { id, n });
        (e.user as Record<string, unknown>).user_id = `user-${user}`;
        return e;
      });
      if ((await api("POST", "/v1/events", { events }, INGEST)).status === 200) for (const e of events) acked.push(e.id as string);
      if (b === 6) {
        await waitFor(() => receiver.requests.length > 20, 10_000);
        box.child.proc.kill("SIGKILL");
        await exited(box.child.proc);
        box.child = await startChild(dataDir, env);
      }
    }
    const expected = acked.filter((id) => id !== "u7-poison");
    await waitFor(() => {
      const got = new Set(accepted().map((e) => e.id as string));
      return expected.every((id) => got.has(id));
    }, 90_000, "every acknowledged event delivered");
    // Each user's events, in the order they first reached the partner in a 2xx, follow acceptance order.
    const firstArrival: string[] = [];
    const seen = new Set<string>();
    for (const e of accepted()) {
      const id = e.id as string;
      if (!seen.has(id)) firstArrival.push(id);
      seen.add(id);
    }
    for (let u = 0; u < USERS; u++) {
      const mine = firstArrival.filter((id) => id.startsWith(`u${u}-`) && id !== "u7-poison");
      expect(mine, `user ${u}`).toEqual(expected.filter((id) => id.startsWith(`u${u}-`)));
    }
    const letters = await api("GET", `/api/v1/currents/${created.body.id}/dead-letters`);
    expect(letters.body.deadLetters.map((l: { event: { id: string } }) => l.event.id)).toEqual(["u7-poison"]);
  }, 150_000);
});
