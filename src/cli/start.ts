import { parseArgs } from "node:util";
import pino from "pino";
import { createCurrents } from "../app.js";
import { type ConfigFlags, loadConfig } from "../config.js";

export const startUsage = `currents start [--config currents.json] [--port 4100] [--host 127.0.0.1] [--data-dir ./.currents] [--allow-private-endpoints]

Runs ingest, delivery and the admin API in one process on the embedded store.
Environment: CURRENTS_ADMIN_TOKEN, CURRENTS_INGEST_KEY, CURRENTS_MASTER_KEY,
CURRENTS_ALLOW_PRIVATE_ENDPOINTS, CURRENTS_RETENTION_DAYS, CURRENTS_LOG_LEVEL (see README).`;

/** `currents start`: thin over createCurrents. Resolves when the service has stopped. */
export async function start(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: "string" },
      port: { type: "string" },
      host: { type: "string" },
      "data-dir": { type: "string" },
      "allow-private-endpoints": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(startUsage);
    return 0;
  }
  const flags: ConfigFlags = {
    configFile: values.config,
    port: values.port,
    host: values.host,
    dataDir: values["data-dir"],
    allowPrivateEndpoints: values["allow-private-endpoints"],
  };
  const config = loadConfig(flags);
  // Signals are caught from the start: a SIGTERM that arrives while starting (or right after
  // "listening" is printed) stops the service gracefully once it is up, never kills it midway.
  const out = process.stderr;
  let signalled: string | undefined;
  let onSignal = (signal: string) => { signalled ??= signal; };
  const sigterm = () => onSignal("SIGTERM");
  const sigint = () => onSignal("SIGINT");
  process.on("SIGTERM", sigterm);
  process.on("SIGINT", sigint);
  const unlisten = () => {
    process.off("SIGTERM", sigterm);
    process.off("SIGINT", sigint);
  };
  // JSON logs; human-readable (pino-pretty) when a person watches a terminal.
  const logger = pino(
    { level: config.logLevel, base: { service: "currents" }, redact: ["req.headers.authorization", "headers.authorization"] },
    process.stdout.isTTY ? pino.transport({ target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l" } }) : undefined,
  );
  let app: Awaited<ReturnType<typeof createCurrents>>;
  try {
    app = await createCurrents(config, { logger });
  } catch (error) {
    unlisten();
    throw error;
  }
  let url: string;
  try {
    url = await app.listen();
  } catch (error) {
    unlisten();
    await app.close();
    const e = error as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE") throw new Error(`port ${config.port} on ${config.host} is already in use (choose another with --port)`);
    if (e.code === "EACCES") throw new Error(`not allowed to listen on ${config.host}:${config.port}`);
    throw error;
  }
  out.write(`currents listening on ${url} (data dir ${config.dataDir})\n`);
  if (app.bootstrap.generatedAdminToken) {
    out.write(`\n  admin token (shown once, stored hashed): ${app.bootstrap.generatedAdminToken}\n`);
  }
  if (app.bootstrap.generatedIngestKey) {
    out.write(`  ingest key for workspace "default" (shown once, stored hashed): ${app.bootstrap.generatedIngestKey}\n\n`);
  }
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        // A second signal while stopping: stop now (what was not acknowledged is sent again at the next start).
        out.write(`${signal} received again: exiting without waiting\n`);
        process.exit(130);
      }
      stopping = true;
      out.write(`${signal} received: stopping (in-flight batches settle or are released)\n`);
      app.close().then(() => resolve(0), (err: unknown) => {
        out.write(`error while stopping: ${(err as Error).message}\n`);
        resolve(1);
      }).finally(unlisten);
    };
    onSignal = stop;
    if (signalled) stop(signalled);
  });
}
