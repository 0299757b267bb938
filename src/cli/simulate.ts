import { parseArgs } from "node:util";
import { produce } from "../simulator/producer.js";
import { progressBar } from "./progress.js";

export const simulateUsage = `currents simulate --url http://127.0.0.1:4100 --key <ingest key> [--rate 100] [--duration 60] [--seed 42]

Sends realistic engagement traffic (funnels, sessions, purchases...) to a Currents ingest API.`;

export async function simulateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" }, key: { type: "string" }, rate: { type: "string" }, duration: { type: "string" }, seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) { console.log(simulateUsage); return 0; }
  const problems: string[] = [];
  if (!values.url) problems.push("--url is required");
  if (!values.key) problems.push("--key is required");
  const rate = Number(values.rate ?? 100);
  const duration = Number(values.duration ?? 60);
  if (!(rate > 0 && rate <= 1_000_000)) problems.push("--rate must be between 1 and 1000000 events/s");
  if (!(duration > 0 && duration <= 86_400)) problems.push("--duration must be between 1 and 86400 seconds");
  if (problems.length > 0) { console.error(`${problems.join("\n")}\n\n${simulateUsage}`); return 2; }
  const bar = progressBar(rate * duration, "simulate");
  const abort = new AbortController();
  process.once("SIGINT", () => abort.abort());
  const result = await produce({
    url: values.url as string, key: values.key as string, rate, durationSeconds: duration, seed: values.seed ? Number(values.seed) : undefined,
    signal: abort.signal,
    onProgress: (p) => bar.update(p.sent, `${p.accepted} accepted, ${p.rejected} rejected, ${p.failedRequests} failed requests`),
  });
  bar.done();
  const secs = result.elapsedMs / 1000;
  console.log(`sent ${result.sent} events in ${secs.toFixed(1)} s (${Math.round(result.sent / Math.max(secs, 0.001))} events/s): ` +
    `${result.accepted} accepted (${result.duplicates} duplicates), ${result.rejected} rejected, ${result.failedRequests} failed requests` +
    (result.lastError ? `; last error: ${result.lastError}` : ""));
  return result.failedRequests > 0 || result.accepted === 0 ? 1 : 0;
}
