import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import type { Logger } from "pino";
import { PostgresAttemptStore } from "../postgres/attempt-store.js";
import { assembleStore } from "../assemble-store.js";
import type { Store } from "../port.js";
import { PostgresConfigRepository } from "../postgres/config-repository.js";
import { PostgresDeadLetterStore } from "../postgres/dead-letter-store.js";
import { type PostgresStoreOptions, connectPostgres } from "../postgres/index.js";
import { PostgresLeaseStore } from "../postgres/lease-store.js";
import { PostgresSourceStore } from "../postgres/source-store.js";
import { PostgresCohortStore } from "../postgres/cohort-store.js";
import { JetStreamEventLog } from "./event-log.js";
import { setUpStream } from "./stream-setup.js";

export interface JetStreamStoreOptions extends PostgresStoreOptions {
  /** `nats://host:port`, several comma-separated. */
  readonly servers: string;
  readonly stream: string;
  readonly partitions: number;
  readonly replicas: number;
  readonly retentionMs: number;
  readonly logger?: Logger;
}

/**
 * A NATS cluster that is still forming (nodes starting, no meta leader yet, peers not current)
 * answers the stream's set-up with a timeout, "JetStream system temporarily unavailable" or "no
 * suitable peers for placement". Start-up waits that long for it, trying every second, instead
 * of exiting: after a whole cluster restarts, Currents processes may well start first.
 */
const CLUSTER_WAIT_MS = 60_000;
const FORMING = /no suitable peers|temporarily unavailable|timeout|no responders|503/i;

async function whileClusterForms<T>(fn: () => Promise<T>, waitMs: number, onWait: (why: string) => void): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      const why = (error as Error).message;
      if (!FORMING.test(why) || Date.now() >= deadline) throw error;
      onWait(why);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/**
 * JetStream mode: the event log in a JetStream stream, everything else (Currents, keys,
 * positions, dead letters, leases, the 24 h dedupe and the per-bucket counts) in PostgreSQL.
 */
export async function openJetStreamStore(o: JetStreamStoreOptions): Promise<Store> {
  const { pool } = await connectPostgres(o);
  const config = new PostgresConfigRepository(pool);
  let nc;
  try {
    nc = await connect({
      servers: o.servers.split(",").map((s) => s.trim().replace(/^nats:\/\//, "")),
      name: "currents", maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: 5_000,
    });
  } catch (error) {
    await pool.end();
    throw new Error(`could not reach NATS at ${o.servers}: ${(error as Error).message}`, { cause: error });
  }
  let jsm: JetStreamManager;
  let partitions: number;
  try {
    ({ jsm, partitions } = await whileClusterForms(async () => {
      const manager = await jetstreamManager(nc, { timeout: 5_000 });
      return { jsm: manager, partitions: await setUpStream(manager, config, o, (msg) => o.logger?.warn(msg)) };
    }, CLUSTER_WAIT_MS, (why) => o.logger?.warn(`the JetStream cluster is not ready yet (${why}); trying again`)));
  } catch (error) {
    await nc.close();
    await pool.end();
    throw new Error(`could not set up the JetStream stream "${o.stream}": ${(error as Error).message}`, { cause: error });
  }
  const events = new JetStreamEventLog({ nc, js: jetstream(nc, { timeout: 5_000 }), jsm, pool, stream: o.stream, partitions, dedupeWindowMs: o.dedupeWindowMs });
  return assembleStore({
    kind: "jetstream",
    partitions,
    events,
    config,
    deadLetters: new PostgresDeadLetterStore(pool),
    attempts: new PostgresAttemptStore(pool),
    sources: new PostgresSourceStore(pool),
    cohorts: new PostgresCohortStore(pool),
    leases: new PostgresLeaseStore(pool),
    onAppended(listener) {
      const sub = nc.subscribe(`${o.stream}.appended.*`, {
        callback: (err, msg) => {
          if (!err) listener(msg.subject.slice(o.stream.length + ".appended.".length));
        },
      });
      return () => sub.unsubscribe();
    },
  }, {
    async check() {
      await pool.query("SELECT 1");
      await jsm.streams.info(o.stream);
    },
    async shutdown() {
      await events.drain();
      await nc.drain().catch(() => nc.close());
      await pool.end();
    },
  });
}
