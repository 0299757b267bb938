import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { tempDir } from "./harness.js";
import { exited } from "./child-service.js";

const BIN = process.env.CURRENTS_TEST_NATS_SERVER ?? "/usr/sbin/nats-server";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface NatsNodes {
  /** `nats://127.0.0.1:a,nats://127.0.0.1:b,...` */
  readonly url: string;
  /** kill -9 one node. */
  kill(i: number): Promise<void>;
  /** Starts a killed node again, on its store directory. */
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * nats-server processes of a test's own (a single node, or a cluster on loopback ports), each
 * with its own store directory, so the test can kill -9 them. Resolves once JetStream answers
 * (a cluster has elected its meta leader).
 */
export async function startNats(nodes = 1): Promise<NatsNodes> {
  const ports = await Promise.all(Array.from({ length: nodes }, freePort));
  const clusterPorts = nodes > 1 ? await Promise.all(Array.from({ length: nodes }, freePort)) : [];
  const dirs = ports.map(() => tempDir("nats-"));
  const procs: Array<ChildProcess | undefined> = [];
  const launch = (i: number) => {
    const args = ["-a", "127.0.0.1", "-p", String(ports[i]), "-js", "-sd", dirs[i] as string, "-n", `n${i}`];
    if (nodes > 1) {
      args.push("--cluster_name", "currents-test", "--cluster", `nats://127.0.0.1:${clusterPorts[i]}`,
        "--routes", clusterPorts.filter((_, k) => k !== i).map((p) => `nats://127.0.0.1:${p}`).join(","));
    }
    const proc = spawn(BIN, args, { stdio: "ignore" });
    proc.on("error", () => undefined);
    procs[i] = proc;
  };
  for (let i = 0; i < nodes; i++) launch(i);
  const url = ports.map((p) => `nats://127.0.0.1:${p}`).join(",");
  const stop = async () => {
    for (const p of procs) p?.kill("SIGKILL");
    await Promise.all(procs.map((p) => (p ? exited(p) : undefined)));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  try {
    await jetstreamReady(url, 30_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    async kill(i) {
      const p = procs[i];
      p?.kill("SIGKILL");
      if (p) await exited(p);
      procs[i] = undefined;
    },
    async restart(i) {
      launch(i);
      await jetstreamReady(`nats://127.0.0.1:${ports[i]}`, 30_000);
    },
    stop,
  };
}

/** Waits until JetStream answers an account-info request through `url`. */
async function jetstreamReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const nc = await connect({ servers: url.split(",").map((s) => s.replace(/^nats:\/\//, "")), timeout: 1_000 });
      try {
        await (await jetstreamManager(nc, { timeout: 1_000 })).getAccountInfo();
        return;
      } finally {
        await nc.close();
      }
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`nats-server did not get JetStream ready within ${timeoutMs} ms: ${(last as Error)?.message}`);
}
