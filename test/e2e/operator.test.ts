import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createNetServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { timeArg } from "../../src/cli/manage.js";
import { exited } from "../support/child-service.js";
import { ADMIN, INGEST, closedAfterEach, tempDir, waitFor } from "../support/harness.js";

/** The operator's surface: stopping through npm, the demo's settings, the CLI's errors, notices with credentials. */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = fileURLToPath(new URL("../../bin/currents.js", import.meta.url));
const use = closedAfterEach();
let children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children) c.kill("SIGKILL");
  children = [];
});

function spawnOut(cmd: string, args: string[], env: Record<string, string> = {}) {
  const proc = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, CURRENTS_LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(proc);
  const io = { out: "", err: "" };
  proc.stdout?.on("data", (c: Buffer) => (io.out += c.toString()));
  proc.stderr?.on("data", (c: Buffer) => (io.err += c.toString()));
  return { proc, io };
}
/** True while the process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

describe("stopping", () => {
  it("`npm start` stops gracefully on SIGTERM sent to npm (what Docker and systemd do): no node left serving", async () => {
    const dir = tempDir();
    use.add(() => rmSync(dir, { recursive: true, force: true }));
    const npm = spawnOut("npm", ["start", "--", "--port", "0", "--data-dir", dir], { CURRENTS_ADMIN_TOKEN: ADMIN, CURRENTS_INGEST_KEY: INGEST });
    await waitFor(() => /listening on/.test(npm.io.err), 20_000, "npm start to listen");
    // The node process serving, wherever it sits under npm (a shell between them would outlive npm).
    const node = Number(execFileSync("pgrep", ["-f", `currents.js start --port 0 --data-dir ${dir}`], { encoding: "utf8" }).trim().split("\n")[0]);
    expect(node).toBeGreaterThan(0);
    children.push({ kill: () => { try { process.kill(node, "SIGKILL"); } catch { /* gone */ } } } as unknown as ChildProcess);
    npm.proc.kill("SIGTERM");
    await waitFor(() => !alive(node), 15_000, "the node process to stop");
    expect(npm.io.err).toMatch(/SIGTERM received: stopping/);
  });

  it("`currents start` stops gracefully on a SIGTERM sent the moment it says it listens (no start-up race)", async () => {
    for (let i = 0; i < 5; i++) {
      const dir = tempDir();
      use.add(() => rmSync(dir, { recursive: true, force: true }));
      const child = spawnOut(process.execPath, [BIN, "start", "--port", "0", "--data-dir", dir], { CURRENTS_ADMIN_TOKEN: ADMIN, CURRENTS_INGEST_KEY: INGEST });
      await new Promise<void>((resolve) => child.proc.stderr?.on("data", () => { if (/listening on/.test(child.io.err)) resolve(); }));
      child.proc.kill("SIGTERM");
      expect(await exited(child.proc), child.io.err).toBe(0);
    }
  });
});

describe("the repository's own CLI", () => {
  it("runs through `npm run cli --` without installing or building anything", async () => {
    const cli = spawnOut("npm", ["run", "--silent", "cli", "--", "--version"]);
    expect(await exited(cli.proc)).toBe(0);
    expect(cli.io.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe("the demo", () => {
  it("uses CURRENTS_ADMIN_TOKEN like start, and names --port when the port is taken", async () => {
    const blocker = createNetServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    use.add(() => new Promise<void>((r) => blocker.close(() => r())));
    const port = (blocker.address() as { port: number }).port;
    const clash = spawnOut(process.execPath, [BIN, "demo", "--port", String(port), "--duration", "1"]);
    expect(await exited(clash.proc)).toBe(1);
    expect(clash.io.err).toMatch(new RegExp(`port ${port} on 127.0.0.1 is already in use \\(choose another with --port`));
    const demo = spawnOut(process.execPath, [BIN, "demo", "--port", "0", "--rate", "20", "--duration", "2"], { CURRENTS_ADMIN_TOKEN: ADMIN });
    await waitFor(() => /dashboard: +(\S+)/.test(demo.io.out), 20_000, "the demo");
    const url = /dashboard: +(http:\/\/\S+?)\/?\n/.exec(demo.io.out)?.[1] as string;
    expect((await fetch(`${url}/api/v1/currents`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
    expect(demo.io.out).not.toContain(ADMIN);
    expect(await exited(demo.proc)).toBe(0);
  }, 40_000);
});

describe("the CLI's errors", () => {
  it("prints usage to stderr with exit 2 when run with nothing; --json errors are JSON on stderr; replay says which time is wrong", async () => {
    const bare = spawnOut(process.execPath, [BIN]);
    expect(await exited(bare.proc)).toBe(2);
    expect(bare.io.out).toBe("");
    expect(bare.io.err).toMatch(/Usage:/);
    const svc = await use.service();
    const missing = spawnOut(process.execPath, [BIN, "currents", "show", "no-such-id", "--json", "--url", svc.url, "--token", ADMIN]);
    expect(await exited(missing.proc)).toBe(3);
    expect(JSON.parse(missing.io.err)).toEqual({ error: { code: "not_found", message: expect.stringContaining("not found") } });
    const created = await svc.admin("POST", "/api/v1/currents", { name: "R", partner: "custom_http", settings: { endpoint: "http://127.0.0.1:9/x" }, events: ["users.messages.email.Send"] });
    await svc.admin("POST", `/api/v1/currents/${created.body.id}/launch`);
    const future = spawnOut(process.execPath, [BIN, "replay", created.body.id, "--from", "2030-01-01T00:00:00Z", "--url", svc.url, "--token", ADMIN]);
    expect(await exited(future.proc)).toBe(5);
    expect(future.io.err).toMatch(/from: is in the future/);
    const secret = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
    const withFlags = spawnOut(process.execPath, [BIN, "currents", "create", "--json", "--url", svc.url, "--token", ADMIN, "--name", "Flags", "--partner", "custom_http",
      "--endpoint", "http://127.0.0.1:9/x", "--events", "users.messages.email.Send", "--signing-secret", secret, "--gzip", "--max-batch-events", "250", "--linger-ms", "200", "--max-in-flight", "2"]);
    expect(await exited(withFlags.proc), withFlags.io.err).toBe(0);
    const made = JSON.parse(withFlags.io.out) as { settings: Record<string, unknown>; batching: Record<string, number> };
    expect(made.settings).toMatchObject({ gzip: true, signingSecret: `****${secret.slice(-4)}` });
    expect(made.batching).toEqual({ maxBatchEvents: 250, lingerMs: 200, maxInFlight: 2 });
    const relative = spawnOut(process.execPath, [BIN, "replay", created.body.id, "--from", "2h", "--json", "--url", svc.url, "--token", ADMIN]);
    expect(await exited(relative.proc)).toBe(0);
    expect(timeArg("90s", Date.parse("2026-01-01T00:00:00Z"))).toBe("2025-12-31T23:58:30.000Z");
    expect(timeArg("1732790000")).toBe(1732790000);
  }, 30_000);
});

describe("notices", () => {
  it("send the Basic-auth credentials written in CURRENTS_NOTIFY_WEBHOOK_URL", async () => {
    const seen: string[] = [];
    const hook = createServer((req, res) => {
      seen.push(String(req.headers.authorization));
      req.resume();
      req.on("end", () => res.writeHead(204).end());
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    use.add(() => new Promise<void>((r) => { hook.closeAllConnections(); hook.close(() => r()); }));
    const port = (hook.address() as { port: number }).port;
    const svc = await use.service({ config: { notifyWebhookUrl: `http://hook%20user:p%40ss@127.0.0.1:${port}/notices` } });
    const { notifier, services } = svc.app;
    const c = await services.currents.create({ name: "N", partner: "custom_http", settings: { endpoint: "http://127.0.0.1:9/x" }, events: [] });
    await notifier.notify(await services.currents.record(c.id), "failing", "test notice");
    await notifier.settle();
    expect(seen).toEqual([`Basic ${Buffer.from("hook user:p@ss").toString("base64")}`]);
  });
});
