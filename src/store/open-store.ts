import type { Logger } from "pino";
import type { Config } from "../config.js";
import type { Store } from "./port.js";
import { openJetStreamStore } from "./jetstream/index.js";
import { openPostgresStore } from "./postgres/index.js";
import { openSqliteStore } from "./sqlite/index.js";

/** The store the configuration asks for: JetStream + PostgreSQL with CURRENTS_NATS_URL, PostgreSQL when DATABASE_URL is set, else the embedded one. */
export async function openStore(config: Config, logger?: Logger): Promise<Store> {
  if (config.nats && config.databaseUrl) {
    return openJetStreamStore({
      url: config.databaseUrl, dedupeWindowMs: config.dedupeWindowMs, poolMax: config.dbPoolMax, logger,
      servers: config.nats.servers, stream: config.nats.stream, partitions: config.nats.partitions, replicas: config.nats.replicas, retentionMs: config.retentionMs,
    });
  }
  if (config.databaseUrl) {
    return openPostgresStore({ url: config.databaseUrl, dedupeWindowMs: config.dedupeWindowMs, poolMax: config.dbPoolMax, logger });
  }
  return openSqliteStore({ dataDir: config.dataDir, dedupeWindowMs: config.dedupeWindowMs });
}
