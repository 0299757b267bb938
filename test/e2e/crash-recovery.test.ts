import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { exited, startChild } from "../support/child-service.js";
import { ADMIN, INGEST, tempDir, waitFor } from "../support/harness.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

const TYPE = "users.messages.email.Send";
let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function api(url: string, method: string, path: string, body?: unknown, token = ADMIN) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
}


/** A receiver, a `currents start` child process on a fresh data dir, and a launched Current to the receiver. */
async function bootWithCurrent(respond: Parameters<typeof startReceiver>[0], batching: Record<string, number>, settings: Record<string, string> = {}) {
  const receiver: Receiver = await startReceiver(respond);
  cleanup.push(() => receiver.close());
  const dataDir = tempDir();
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const box = { child: await startChild(dataDir) };
  cleanup.push(() => { box.child.proc.kill("SIGKILL"); });
  const created = await api(box.child.url, "POST", "/api/v1/currents", {
    name: "Heap", partner: "heap", settings: { endpoint: receiver.url, ...settings }, events: [TYPE], batching,
  });
  expect(created.status).toBe(201);
  expect((await api(box.child.url, "POST", `/api/v1/currents/${created.body.id}/launch`)).status).toBe(200);
  return {
    receiver,
    box,
    currentId: created.body.id as string,
    /** kill -9, then start again on the same data dir. */
    async crashAndRestart() {
      box.child.proc.kill("SIGKILL");
      await exited(box.child.proc);
      box.child = await startChild(dataDir);
    },
  };
}

describe("kill -9", () => {
  it("loses no acknowledged event: every event ingest acknowledged is delivered after a restart", async () => {
    const { receiver, box, currentId, crashAndRestart } = await bootWithCurrent(
      // A partner slower than ingest, so that acknowledged events wait for delivery at the kill.
      () => ({ delayMs: 50, status: 200 }), { lingerMs: 5, maxBatchEvents: 50 }, { bearerToken: "tok-9876" });

    // Several producers post batches; the process is killed while they are in full flow.
    const acked = new Set<string>();
    let stop = false;
    let seq = 0;
    const producer = async () => {
      while (!stop && seq < 200_000) {
        const batch = Array.from({ length: 100 }, () => sampleEvent(TYPE, { id: `k-${seq++}` }));
        try {
          const res = await fetch(`${box.child.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${INGEST}`, "content-type": "application/json" }, body: JSON.stringify({ events: batch }) });
          if (res.status === 200) {
            const body = (await res.json()) as { accepted: number };
            if (body.accepted === batch.length) for (const e of batch) acked.add(e.id as string);
          }
        } catch {
          return; // the server died under this request: it was not acknowledged
        }
      }
    };
    const producers = [producer(), producer(), producer()];
    await waitFor(() => acked.size >= 3_000 && receiver.events().length > 500, 20_000, "traffic to flow");
    const restarting = crashAndRestart();
    await exited(box.child.proc);
    stop = true;
    await Promise.all(producers);
    const deliveredBeforeKill = new Set(receiver.events().map((e) => e.id));
    expect(deliveredBeforeKill.size).toBeLessThan(acked.size); // the kill really happened mid-stream
    await restarting;
    await waitFor(() => {
      const got = new Set(receiver.events().map((e) => e.id));
      for (const id of acked) if (!got.has(id)) return false;
      return true;
    }, 30_000, "every acknowledged event to be delivered after the restart");
    const stats = (await api(box.child.url, "GET", `/api/v1/currents/${currentId}`)).body.stats;
    expect(stats.lastError).toBeNull();
    box.child.proc.kill("SIGTERM");
    expect(await exited(box.child.proc)).toBe(0);
  });
});

describe("kill -9 during retries and during a split", () => {
  async function run(respond: (r: import("../support/receiver.js").ReceivedRequest) => import("../support/receiver.js").Behaviour, killWhen: (r: Receiver) => boolean) {
    const { receiver, box, currentId, crashAndRestart } = await bootWithCurrent(respond, { lingerMs: 20, maxBatchEvents: 100 });
    const acked: string[] = [];
    for (let i = 0; i < 5; i++) {
      const batch = Array.from({ length: 100 }, (_, n) => sampleEvent(TYPE, { id: i === 2 && n === 33 ? "poison" : `e-${i}-${n}` }));
      const res = await api(box.child.url, "POST", "/v1/events", { events: batch }, INGEST);
      expect(res.body.accepted).toBe(100);
      acked.push(...batch.map((e) => e.id as string));
    }
    await waitFor(() => killWhen(receiver), 15_000, "the moment to kill");
    await crashAndRestart();
    return { receiver, acked, child: box.child, currentId };
  }

  it("keeps a batch that was being retried", async () => {
    let healthy = false;
    const delivered = new Set<unknown>();
    const { acked } = await run((r) => {
      if (!healthy) return { status: 503 };
      for (const e of r.events) delivered.add(e.id);
      return { status: 200 };
    }, (r) => r.requests.length >= 6); // several batches tried and retried
    healthy = true;
    await waitFor(() => acked.every((id) => delivered.has(id)), 30_000, "every acknowledged event after the restart");
  });

  it("keeps the events of a batch that was being split, and dead-letters the poison event", async () => {
    const delivered = new Set<unknown>();
    let poisonRefused = 0;
    const { acked, child, currentId } = await run((r) => {
      if (r.events.some((e) => e.id === "poison")) {
        poisonRefused++;
        return { delayMs: 30, status: 400 };
      }
      for (const e of r.events) delivered.add(e.id);
      return { status: 200 };
    }, (r) => r.requests.filter((q) => q.events.some((e) => e.id === "poison")).length >= 3); // killed in the middle of the bisection
    await waitFor(() => acked.every((id) => id === "poison" || delivered.has(id)), 30_000, "every acknowledged event after the restart");
    await waitFor(async () => (await api(child.url, "GET", `/api/v1/currents/${currentId}`)).body.stats.deadLettered >= 1, 15_000, "the dead letter");
    const letters = (await api(child.url, "GET", `/api/v1/currents/${currentId}/dead-letters`)).body.deadLetters as Array<{ event: { id: string } }>;
    // (at least once: a bisection cut short by the kill may dead-letter the poison event twice)
    expect(new Set(letters.map((l) => l.event.id))).toEqual(new Set(["poison"]));
    // Every other acknowledged event was accepted by the partner; the poison one was offered and refused.
    expect(new Set([...delivered].filter((id) => id !== "poison"))).toEqual(new Set(acked.filter((id) => id !== "poison")));
    expect(poisonRefused).toBeGreaterThan(3);
  });
});
