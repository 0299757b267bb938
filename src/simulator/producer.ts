import { Agent, request } from "undici";
import { EngagementSimulator } from "./simulator.js";

export interface ProduceOptions {
  readonly url: string;
  readonly key: string;
  /** Events a second. */
  readonly rate: number;
  /** Seconds. */
  readonly durationSeconds: number;
  readonly batchSize?: number;
  readonly seed?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: ProduceProgress) => void;
}

export interface ProduceProgress {
  sent: number; accepted: number; duplicates: number; rejected: number; failedRequests: number; elapsedMs: number; lastError: string | null;
}

/** Posts simulated events to a Currents ingest URL at a steady rate, for a bounded time. */
export async function produce(o: ProduceOptions): Promise<ProduceProgress> {
  const sim = new EngagementSimulator({ seed: o.seed });
  const agent = new Agent({ connections: 4 });
  const p: ProduceProgress = { sent: 0, accepted: 0, duplicates: 0, rejected: 0, failedRequests: 0, elapsedMs: 0, lastError: null };
  const started = Date.now();
  const tickMs = 100;
  const batch = o.batchSize ?? 500;
  const ingestUrl = new URL("/v1/events", o.url).toString();
  let owed = 0;
  try {
    while (!o.signal?.aborted && Date.now() - started < o.durationSeconds * 1000) {
      owed += (o.rate * tickMs) / 1000;
      while (owed >= 1 && !o.signal?.aborted) {
        const n = Math.min(batch, Math.floor(owed));
        owed -= n;
        const events = sim.next(n);
        p.sent += n;
        try {
          const res = await request(ingestUrl, {
            method: "POST", dispatcher: agent, signal: o.signal,
            headers: { authorization: `Bearer ${o.key}`, "content-type": "application/json" },
            body: JSON.stringify({ events }),
          });
          const text = await res.body.text();
          if (res.statusCode === 200) {
            const r = JSON.parse(text) as { accepted: number; duplicates: number; rejected: unknown[] };
            p.accepted += r.accepted;
            p.duplicates += r.duplicates;
            p.rejected += r.rejected.length;
          } else {
            p.failedRequests++;
            p.lastError = `HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
          }
        } catch (error) {
          if (o.signal?.aborted) break;
          p.failedRequests++;
          p.lastError = (error as Error).message;
        }
      }
      p.elapsedMs = Date.now() - started;
      o.onProgress?.({ ...p });
      const wait = tickMs - ((Date.now() - started) % tickMs);
      await new Promise((r) => setTimeout(r, wait));
    }
  } finally {
    p.elapsedMs = Date.now() - started;
    await agent.close();
  }
  return p;
}
