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

describe("kill -9", () => {
  it("loses no acknowledged event: every event ingest acknowledged is delivered after a restart", async () => {
    const receiver: Receiver = await startReceiver();
    cleanup.push(() => receiver.close());
    const dataDir = tempDir();
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    let child = await startChild(dataDir);
    cleanup.push(() => { child.proc.kill("SIGKILL"); });
    const created = await api(child.url, "POST", "/api/v1/currents", {
      name: "Heap", partner: "heap", settings: { endpoint: receiver.url, bearerToken: "tok-9876" }, events: [TYPE], batching: { lingerMs: 5, maxBatchEvents: 50 },
    });
    expect(created.status).toBe(201);
    expect((await api(child.url, "POST", `/api/v1/currents/${created.body.id}/launch`)).status).toBe(200);

    // Several producers post batches; the process is killed while they are in full flow.
    const acked = new Set<string>();
    let stop = false;
    let seq = 0;
    const producer = async () => {
      while (!stop && seq < 200_000) {
        const batch = Array.from({ length: 100 }, () => sampleEvent(TYPE, { id: `k-${seq++}` }));
        try {
          const res = await fetch(`${child.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${INGEST}`, "content-type": "application/json" }, body: JSON.stringify({ events: batch }) });
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
    child.proc.kill("SIGKILL");
    await exited(child.proc);
    stop = true;
    await Promise.all(producers);
    const deliveredBeforeKill = new Set(receiver.events().map((e) => e.id));
    expect(deliveredBeforeKill.size).toBeLessThan(acked.size); // the kill really happened mid-stream

    child = await startChild(dataDir);
    await waitFor(() => {
      const got = new Set(receiver.events().map((e) => e.id));
      for (const id of acked) if (!got.has(id)) return false;
      return true;
    }, 30_000, "every acknowledged event to be delivered after the restart");
    const stats = (await api(child.url, "GET", `/api/v1/currents/${created.body.id}`)).body.stats;
    expect(stats.lastError).toBeNull();
    child.proc.kill("SIGTERM");
    expect(await exited(child.proc)).toBe(0);
  });
});
