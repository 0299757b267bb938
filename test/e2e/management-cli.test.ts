import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { exited } from "../support/child-service.js";
import { ADMIN, type Service, startService, waitFor } from "../support/harness.js";
import { type Receiver, startReceiver } from "../support/receiver.js";

const BIN = fileURLToPath(new URL("../../bin/currents.js", import.meta.url));
let svc: Service;
let receiver: Receiver;
beforeAll(async () => {
  svc = await startService();
  receiver = await startReceiver();
});
afterAll(async () => {
  await svc.close();
  await receiver.close();
});

async function cli(args: string[], token = ADMIN): Promise<{ code: number | string | null; out: string; err: string }> {
  const proc = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, CURRENTS_URL: svc.url, CURRENTS_ADMIN_TOKEN: token }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  proc.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  const code = await exited(proc);
  return { code, out, err };
}

describe("management CLI", () => {
  it("manages Currents end to end, with tables by default and --json for scripts", async () => {
    const created = await cli(["currents", "create", "--json", "--name", "CLI export", "--partner", "heap", "--endpoint", receiver.url,
      "--bearer-token", "cli-partner-token-4321", "--events", "users.messages.email.Send,users.messages.email.Open"]);
    expect(created.code, created.err).toBe(0);
    const id = (JSON.parse(created.out) as { id: string; status: string }).id;
    expect((await cli(["currents", "launch", id])).out).toMatch(/CLI export: active/);
    const list = await cli(["currents", "list"]);
    expect(list.out).toMatch(/^ID\s+NAME\s+PARTNER\s+STATUS/);
    expect(list.out).toContain(id);
    const show = await cli(["currents", "show", id]);
    expect(show.out).toMatch(/bearer token\s+\*\*\*\*4321/);
    expect(show.out).not.toContain("cli-partner-token-4321");
    const test = await cli(["currents", "test", id]);
    expect(test.code).toBe(0);
    expect(test.out).toMatch(/sent 2 test events: HTTP 200/);

    await svc.ingest(Array.from({ length: 30 }, () => sampleEvent("users.messages.email.Send")));
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered === 30);
    const replay = await cli(["replay", id, "--from", String(Math.floor(Date.now() / 1000) - 60)]);
    expect(replay.code, replay.err).toBe(0);
    expect(replay.out).toMatch(/replay done: 30 of 30 events re-sent/);

    expect((await cli(["currents", "pause", id])).out).toMatch(/paused/);
    expect((await cli(["currents", "resume", id])).out).toMatch(/active/);
    expect((await cli(["currents", "delete", id])).code).toBe(0);
    expect((await cli(["currents", "show", id])).code).toBe(3);
  }, 30_000);

  it("manages ingest keys", async () => {
    const created = await cli(["keys", "create", "--workspace", "cli-ws", "--json"]);
    const key = JSON.parse(created.out) as { id: string; key: string };
    expect(key.key).toMatch(/^cur_ingest_/);
    const list = await cli(["keys", "list"]);
    expect(list.out).toContain(key.id);
    expect(list.out).not.toContain(key.key);
    expect((await cli(["keys", "revoke", key.id])).out).toMatch(/revoked/);
    expect((await svc.ingest([sampleEvent("users.messages.email.Send")], key.key)).status).toBe(401);
  }, 30_000);

  it("creates a Heap server-side API Current with only an App ID and the identity, and names a wrong setting", async () => {
    const created = await cli(["currents", "create", "--json", "--name", "Heap API", "--partner", "heap_api", "--app-id", "1234567890", "--identity", "user_id",
      "--event-names", "friendly", "--user-properties", "properties.email_address=email", "--identity-events-per-minute", "500", "--events", "users.messages.email.Open"]);
    expect(created.code, created.err).toBe(0);
    const c = JSON.parse(created.out) as { id: string; settings: Record<string, unknown>; destination: string };
    expect(c.settings).toEqual({ appId: "1234567890", identity: "user_id", eventNames: "friendly", userProperties: { "properties.email_address": "email" }, identityEventsPerMinute: 500 });
    expect(c.destination).toBe("https://heapanalytics.com/api/track");
    expect((await cli(["currents", "show", c.id])).out).toMatch(/app id\s+1234567890/);
    const wrong = await cli(["currents", "create", "--name", "x", "--partner", "heap_api", "--app-id", "my-app", "--events", "users.messages.email.Open"]);
    expect(wrong.code).toBe(5);
    expect(wrong.err).toMatch(/settings\.appId/);
    expect((await cli(["currents", "create", "--name", "x", "--partner", "heap_api", "--app-id", "1", "--app-events-per-minute", "lots", "--events", "users.messages.email.Open"])).code).toBe(2);
  }, 30_000);

  it("exits with codes scripts can rely on", async () => {
    expect((await cli(["currents", "list"], "wrong-token-000000000")).code).toBe(4);
    expect((await cli(["currents", "show", "no-such-id"])).code).toBe(3);
    const invalid = await cli(["currents", "create", "--name", "x", "--partner", "nope", "--endpoint", "https://example.com", "--events", "users.messages.email.Send"]);
    expect(invalid.code).toBe(5);
    expect(invalid.err).toMatch(/partner/);
    expect((await cli(["currents", "create", "--name", "x"])).code).toBe(2);
    expect((await cli(["currents", "frobnicate"])).code).toBe(2);
  }, 30_000);
});
