import { parseArgs } from "node:util";
import { LocalReceiver } from "../receiver/local-receiver.js";

export const receiverUsage = `currents receiver [--port 4200] [--host 127.0.0.1] [--token <bearer token>] [--verbose]

A local receiver standing in for Heap: prints each batch that arrives (test a firewall or
proxy with it before pointing a Current at Heap). --verbose also prints each request's
headers (the token masked), its body and which Current sent it.`;

export async function receiverCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { port: { type: "string" }, host: { type: "string" }, token: { type: "string" }, verbose: { type: "boolean", short: "v" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help) { console.log(receiverUsage); return 0; }
  const port = Number(values.port ?? 4200);
  if (!Number.isInteger(port) || port < 0 || port > 65535) { console.error(`--port must be an integer between 0 and 65535\n\n${receiverUsage}`); return 2; }
  const receiver = new LocalReceiver({
    port, host: values.host, token: values.token,
    onBatch: (b) => {
      console.log(b.status === 200
        ? `${new Date().toISOString()} ${b.events} events (${b.duplicates} duplicates) from Current ${b.currentId ?? "?"}: ${Object.entries(b.types).map(([t, n]) => `${t} x${n}`).join(", ")}`
        : `${new Date().toISOString()} refused with ${b.status}${b.currentId ? ` (Current ${b.currentId})` : ""}`);
      if (values.verbose) {
        for (const [k, v] of Object.entries(b.headers)) console.log(`  ${k}: ${v}`);
        if (b.body) console.log(`  ${b.body}`);
      }
    },
  });
  const url = await receiver.start();
  console.log(`receiver listening on ${url}${values.token ? " (bearer token required)" : ""}`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await receiver.close();
  console.log(`received ${receiver.received} events (${receiver.unique} unique) in ${receiver.requests} requests`);
  return 0;
}
