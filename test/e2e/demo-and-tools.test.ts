import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { exited } from "../support/child-service.js";
import { INGEST, launchCurrent, startService, waitFor } from "../support/harness.js";

const BIN = fileURLToPath(new URL("../../bin/currents.js", import.meta.url));
let children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children) c.kill("SIGKILL");
  children = [];
});

function run(args: string[]) {
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, CURRENTS_LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(proc);
  let out = "";
  proc.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  proc.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  return { proc, output: () => out };
}

describe("currents demo, simulate and receiver", () => {
  it("demo starts, delivers simulated events to its receiver, and stops cleanly", async () => {
    const demo = run(["demo", "--port", "0", "--rate", "150", "--duration", "4"]);
    expect(await exited(demo.proc)).toBe(0);
    const out = demo.output();
    expect(out).toMatch(/dashboard: {3}http:\/\/127\.0\.0\.1:\d+\//);
    expect(out).toMatch(/admin token: cur_admin_/);
    const m = /simulator sent (\d+) events, (\d+) accepted; receiver got (\d+) events/.exec(out);
    expect(m).not.toBeNull();
    expect(Number(m?.[2])).toBeGreaterThan(300);
    expect(Number(m?.[3])).toBe(Number(m?.[2]));
  }, 30_000);

  it("simulate feeds a running service and the receiver prints what arrives, with the token checked", async () => {
    const receiver = run(["receiver", "--port", "0", "--token", "tok-recv-1234"]);
    await waitFor(() => /receiver listening on (\S+)/.test(receiver.output()), 10_000, "the receiver");
    const receiverUrl = /receiver listening on (\S+)/.exec(receiver.output())?.[1] as string;
    const svc = await startService();
    try {
      const types = ["users.messages.email.Send", "users.messages.email.Delivery", "users.behaviors.app.SessionStart", "users.behaviors.CustomEvent"];
      await launchCurrent(svc, receiverUrl, types, { settings: { endpoint: receiverUrl, bearerToken: "tok-recv-1234" } });
      const sim = run(["simulate", "--url", svc.url, "--key", INGEST, "--rate", "300", "--duration", "2"]);
      expect(await exited(sim.proc)).toBe(0);
      expect(sim.output()).toMatch(/sent \d+ events in [\d.]+ s .*\d+ accepted \(0 duplicates\), 0 rejected, 0 failed requests/);
      await waitFor(() => /users\.messages\.email\.Send x\d+/.test(receiver.output()), 10_000, "batches at the receiver");
      receiver.proc.kill("SIGTERM");
      expect(await exited(receiver.proc)).toBe(0);
      expect(receiver.output()).toMatch(/received \d+ events \(\d+ unique\)/);
      const wrong = run(["simulate", "--url", svc.url, "--key", "wrong-key", "--rate", "10", "--duration", "1"]);
      expect(await exited(wrong.proc)).toBe(1);
      expect(wrong.output()).toMatch(/HTTP 401/);
      const bad = run(["simulate", "--rate", "0"]);
      expect(await exited(bad.proc)).toBe(2);
      expect(bad.output()).toMatch(/--url is required/);
    } finally {
      await svc.close();
    }
  }, 30_000);
});
