import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";

/** The NATS server with JetStream the tests use (CI starts one on 127.0.0.1:4222). */
export const NATS_URL = process.env.CURRENTS_TEST_NATS_URL ?? "nats://127.0.0.1:4222";

/** A stream name of one's own: streams (and their subjects) of parallel test files never meet. */
export function freshStreamName(): string {
  return `t_${randomBytes(5).toString("hex")}`;
}

/** Deletes test streams (the server keeps them on disk otherwise). */
export async function deleteStreams(names: readonly string[], servers = NATS_URL): Promise<void> {
  if (names.length === 0) return;
  const nc = await connect({ servers: servers.split(",").map((s) => s.replace(/^nats:\/\//, "")), timeout: 5_000 });
  try {
    const jsm = await jetstreamManager(nc);
    for (const n of names) await jsm.streams.delete(n).catch(() => undefined);
  } finally {
    await nc.close();
  }
}
