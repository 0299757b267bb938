import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createCurrents } from "../app.js";
import { allEventTypes } from "../catalog/catalog.js";
import { loadConfig } from "../config.js";
import { LocalReceiver } from "../receiver/local-receiver.js";
import { generateCredential } from "../security/credentials.js";
import { produce } from "../simulator/producer.js";

export const demoUsage = `currents demo [--port 4100] [--rate 50] [--duration <seconds>]

Starts Currents on a temporary data dir, a local receiver standing in for Heap, a Heap Export
Current to it, and the engagement simulator feeding it. Prints the dashboard URL and the admin
token. Stops cleanly on Ctrl-C (or after --duration) and removes the temporary data.`;

export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: "string" }, rate: { type: "string" }, duration: { type: "string" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help) { console.log(demoUsage); return 0; }
  const rate = Number(values.rate ?? 50);
  const duration = values.duration === undefined ? 7 * 86_400 : Number(values.duration);
  if (!(rate > 0 && rate <= 100_000) || !(duration > 0)) { console.error(`--rate must be 1-100000 and --duration positive\n\n${demoUsage}`); return 2; }
  const dataDir = mkdtempSync(join(tmpdir(), "currents-demo-"));
  // The same variables as `start`: a token or key set by the environment is the one used.
  const adminToken = process.env.CURRENTS_ADMIN_TOKEN || generateCredential("cur_admin");
  const ingestKey = process.env.CURRENTS_INGEST_KEY || generateCredential("cur_ingest");
  const heapToken = "demo-heap-token-1234";
  const receiver = new LocalReceiver({ token: heapToken });
  const receiverUrl = await receiver.start();
  const config = loadConfig({ port: values.port ?? process.env.CURRENTS_PORT ?? "4100", dataDir, allowPrivateEndpoints: true }, {
    ...process.env, CURRENTS_ADMIN_TOKEN: adminToken, CURRENTS_INGEST_KEY: ingestKey, CURRENTS_LOG_LEVEL: process.env.CURRENTS_LOG_LEVEL ?? "warn",
  });
  const app = await createCurrents(config);
  const abort = new AbortController();
  try {
    const url = await app.listen().catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") throw new Error(`port ${config.port} on ${config.host} is already in use (choose another with --port, e.g. currents demo --port 4101)`);
      throw error;
    });
    const current = await app.services.currents.create({
      name: "Heap (demo receiver)", partner: "heap", contactEmail: "demo@example.com",
      settings: { endpoint: receiverUrl, bearerToken: heapToken },
      events: allEventTypes().filter((d) => d.status === "current").map((d) => d.type),
      transformations: [{ field: "email_address", action: "hash" }],
    });
    await app.services.currents.launch(current.id);
    const shown = (value: string, fromEnv: boolean) => (fromEnv ? `${value.slice(0, 4)}... (from the environment)` : value);
    console.log(`\nCurrents demo is running.\n  dashboard:   ${url}/\n  admin token: ${shown(adminToken, Boolean(process.env.CURRENTS_ADMIN_TOKEN))}\n  ingest key:  ${shown(ingestKey, Boolean(process.env.CURRENTS_INGEST_KEY))}\n` +
      `  a Heap Export Current sends to a local receiver (${receiverUrl}); the simulator sends ~${rate} events/s.\n  Ctrl-C stops the demo.\n`);
    const stop = () => abort.abort();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    const status = setInterval(() => {
      console.log(`receiver got ${receiver.unique} events (${Object.keys(Object.fromEntries(receiver.byType)).length} types)`);
    }, 5_000);
    const produced = await produce({ url, key: ingestKey, rate, durationSeconds: duration, signal: abort.signal });
    clearInterval(status);
    const deadline = Date.now() + 5_000; // let the last batches arrive
    while (receiver.unique < produced.accepted - produced.duplicates && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    console.log(`stopping: simulator sent ${produced.sent} events, ${produced.accepted} accepted; receiver got ${receiver.unique} events (${receiver.duplicates} duplicates)`);
    return 0;
  } finally {
    await app.close();
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
