import type { JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { ConfigRepository } from "../port.js";

export interface StreamSetupOptions {
  readonly stream: string;
  readonly partitions: number;
  readonly replicas: number;
  readonly retentionMs: number;
  /** How long the stream remembers a message id (a publish retried after a lost acknowledgement). @defaultValue 120_000 */
  readonly duplicateWindowMs?: number;
}

/** The version of the stream's shape this Currents creates; recorded in PostgreSQL. */
export const STREAM_SETUP_VERSION = 1;

/**
 * Creates or updates the event stream (Currents' own versioned setup) and returns the number
 * of partitions. The partition count is recorded in PostgreSQL when the stream is first
 * created and never changes afterwards: a user's partition, and so its order, stays put under
 * running Currents (a different CURRENTS_NATS_PARTITIONS is reported and ignored).
 */
export async function setUpStream(jsm: JetStreamManager, config: ConfigRepository, o: StreamSetupOptions, warn: (msg: string) => void): Promise<number> {
  const partitionsKey = `jetstream.${o.stream}.partitions`;
  const recorded = await config.getSetting(partitionsKey);
  const partitions = recorded ? Number(recorded) : o.partitions;
  if (recorded && partitions !== o.partitions) {
    warn(`stream "${o.stream}" was created with ${partitions} partitions; CURRENTS_NATS_PARTITIONS=${o.partitions} is ignored (a user's partition never changes)`);
  }
  const wanted: Partial<StreamConfig> & { name: string } = {
    name: o.stream,
    subjects: [`${o.stream}.ev.>`],
    // Retention deletes (and counts as expired what was not delivered) first; MaxAge is the backstop.
    max_age: nanos(o.retentionMs + 3_600_000),
    duplicate_window: nanos(o.duplicateWindowMs ?? 120_000),
    num_replicas: o.replicas,
    allow_direct: false,
  };
  const existing = await jsm.streams.info(o.stream).catch((error: unknown) => {
    if (/stream not found/i.test((error as Error).message)) return undefined;
    throw error;
  });
  if (!existing) {
    await jsm.streams.add(wanted);
  } else {
    const c = existing.config;
    if (c.max_age !== wanted.max_age || c.num_replicas !== wanted.num_replicas || c.duplicate_window !== wanted.duplicate_window) {
      await jsm.streams.update(o.stream, { ...c, max_age: wanted.max_age, num_replicas: wanted.num_replicas, duplicate_window: wanted.duplicate_window });
    }
  }
  if (!recorded) await config.setSetting(partitionsKey, String(partitions));
  await config.setSetting(`jetstream.${o.stream}.setup`, String(STREAM_SETUP_VERSION));
  return partitions;
}
