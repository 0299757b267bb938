import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { lookup } from "node:dns/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { sampleEvent } from "../../src/catalog/sample-event.js";
import { isPrivateAddress } from "../../src/security/ssrf-guard.js";
import { ADMIN, INGEST, closedAfterEach, launchCurrent, startService, tempDir, waitFor } from "../support/harness.js";

const use = closedAfterEach();
const service = use.service;
const receiver = use.receiver;
const cleanup = { push: use.add };

describe("secrets never appear in clear", () => {
  it("not in logs, API answers, metrics nor the data dir's bytes", async () => {
    const TOKEN = "Heap-Bearer-Secret-7f3a9c";
    const SIGNING = "whsec_c2lnbmluZy1zZWNyZXQtdmFsdWUtMTIzNDU2Nzg=";
    let logs = "";
    const sink = new Writable({ write(chunk, _enc, done) { logs += chunk.toString(); done(); } });
    const partner = await receiver((r) => (r.headers.authorization === `Bearer ${TOKEN}` && r.events.length < 5 ? { status: 200 } : { status: 401, body: "denied" }));
    const svc = await service({ app: { logger: pino({ level: "trace" }, sink) } });
    const created = await svc.admin("POST", "/api/v1/currents", {
      name: "Leak check", partner: "custom_http", contactEmail: "ops@example.com",
      settings: { endpoint: partner.url, bearerToken: TOKEN, signingSecret: SIGNING }, events: ["users.messages.email.Send"],
    });
    const id = created.body.id as string;
    await svc.admin("POST", `/api/v1/currents/${id}/launch`);
    await svc.ingest([sampleEvent("users.messages.email.Send")]);
    await waitFor(() => partner.requests.length >= 1);
    expect(partner.requests[0]?.headers["webhook-signature"]).toMatch(/^v1,/);
    await svc.ingest(Array.from({ length: 10 }, () => sampleEvent("users.messages.email.Send")));
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.status === "failing");
    await svc.admin("POST", `/api/v1/currents/${id}/test`);
    // A source's signing key: sealed like partner secrets; a webhook signed with another key is refused and logged without it.
    const MAILGUN_KEY = "mailgun-signing-key-7f3e9b2c41";
    const source = await svc.admin("POST", "/api/v1/sources", { kind: "mailgun", name: "mg", settings: { signingKey: MAILGUN_KEY } });
    await fetch(`${svc.url}/v1/sources/${source.body.id}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ signature: { token: "t", timestamp: String(Math.floor(Date.now() / 1000)), signature: "0".repeat(64) }, "event-data": {} }) });
    const answers = [
      source.body,
      (await svc.admin("GET", `/api/v1/sources/${source.body.id}`)).body,
      (await svc.admin("PATCH", `/api/v1/sources/${source.body.id}`, { name: "mg2" })).body,
      created.body,
      (await svc.admin("GET", `/api/v1/currents/${id}`)).body,
      (await svc.admin("GET", "/api/v1/currents")).body,
      (await svc.admin("PATCH", `/api/v1/currents/${id}`, { name: "Leak check 2" })).body,
      (await svc.admin("GET", `/api/v1/currents/${id}/attempts`)).body,
      (await svc.admin("GET", `/api/v1/currents/${id}/history`)).body,
      (await svc.admin("GET", "/api/v1/audit")).body,
      (await svc.admin("GET", "/api/v1/ingest-keys")).body,
      await (await fetch(`${svc.url}/metrics`)).text(),
    ].map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join("\n");
    expect(answers).toContain(`"bearerToken":"****3a9c"`); // only the masked form is there
    await svc.app.close();
    const files = readdirSync(svc.dataDir).map((f) => readFileSync(join(svc.dataDir, f)).toString("latin1")).join("\n");
    for (const secret of [TOKEN, SIGNING, ADMIN, INGEST, "c2lnbmluZy1zZWNyZXQ", MAILGUN_KEY]) {
      expect(logs, `logs hold ${secret}`).not.toContain(secret);
      expect(answers, `answers hold ${secret}`).not.toContain(secret);
      expect(files, `data dir holds ${secret}`).not.toContain(secret);
    }
    expect(logs).toContain("delivery attempt failed"); // the logs were captured
  });

  it("rotate-master-key re-encrypts every secret and delivery goes on with the same token", async () => {
    const partner = await receiver();
    const dataDir = tempDir();
    let svc = await startService({ dataDir });
    const id = await launchCurrent(svc, partner.url, ["users.messages.email.Send"]);
    const source = (await svc.admin("POST", "/api/v1/sources", { kind: "postmark", name: "pm", settings: { username: "pm", password: "pm-password-0123456789" } })).body.id as string;
    await svc.app.close();
    const keyBefore = readFileSync(join(dataDir, "master.key"), "utf8");
    const bin = fileURLToPath(new URL("../../bin/currents.js", import.meta.url));
    const r = spawnSync(process.execPath, [bin, "rotate-master-key", "--data-dir", dataDir], { encoding: "utf8", env: { ...process.env, CURRENTS_MASTER_KEY: "" } });
    expect(r.stdout + r.stderr).toMatch(/re-encrypted the secrets of 1 Current\(s\) and 1 source\(s\)/);
    expect(r.status).toBe(0);
    expect(readFileSync(join(dataDir, "master.key"), "utf8")).not.toBe(keyBefore);
    svc = await startService({ dataDir });
    cleanup.push(() => svc.close());
    await svc.ingest([sampleEvent("users.messages.email.Send")]);
    await waitFor(() => partner.requests.length === 1);
    expect(partner.requests[0]?.headers.authorization).toBe("Bearer partner-token-abcd");
    expect((await svc.admin("GET", `/api/v1/currents/${id}`)).body.settings.bearerToken).toBe("****abcd");
    // The source's password was re-encrypted too: its webhook still checks it.
    const hook = await fetch(`${svc.url}/v1/sources/${source}`, { method: "POST", headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from("pm:pm-password-0123456789").toString("base64")}` },
      body: JSON.stringify({ RecordType: "Delivery", MessageID: "m", Recipient: "a@example.com", DeliveredAt: new Date().toISOString() }) });
    expect(hook.status).toBe(200);
  });
});

describe("SSRF guard", () => {
  const refused = [
    "http://127.0.0.1:9/x", "https://127.0.0.1/x", "https://2130706433/x", "https://0x7f000001/x", "https://0177.0.0.1/x",
    "https://127.1/x", "https://[::1]/x", "https://[::ffff:127.0.0.1]/x", "https://[::ffff:7f00:1]/x", "https://169.254.169.254/latest/meta-data",
    "https://10.0.0.1/x", "https://172.16.5.4/x", "https://192.168.1.1/x", "https://100.64.0.1/x", "https://0.0.0.0/x",
    "https://[fd00::1]/x", "https://[fe80::1]/x", "https://224.0.0.1/x", "https://localhost/x", "https://api.localhost/x",
    // IPv4-compatible, SIIT, 6to4, NAT64 local-use, Teredo, and a trailing dot
    "https://[::127.0.0.1]/x", "https://[::ffff:0:127.0.0.1]/x", "https://[2002:7f00:1::]/x", "https://[64:ff9b:1::7f00:1]/x",
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x", "https://localhost./x", "https://api.localhost../x",
    "file:///etc/passwd", "gopher://example.com/", "https://user:pw@example.com/x",
  ];

  it("refuses private, loopback, link-local, metadata and odd notations when the Current is saved", async () => {
    const svc = await service({ config: { allowPrivateEndpoints: false } });
    for (const endpoint of refused) {
      const r = await svc.admin("POST", "/api/v1/currents", { name: "x", partner: "heap", settings: { endpoint }, events: [] });
      expect(r.status, endpoint).toBe(400);
      expect(r.body.error.field, endpoint).toBe("settings.endpoint");
    }
    // The refusal of a local endpoint names the way to allow it (the README's quick start uses it).
    const local = await svc.admin("POST", "/api/v1/currents", { name: "x", partner: "heap", settings: { endpoint: "http://127.0.0.1:4200/currents" }, events: [] });
    expect(local.body.error.message).toMatch(/--allow-private-endpoints/);
  });

  it("checks the address at connect time: a name resolving to a private address is refused and nothing is sent", async () => {
    const name = hostname();
    const { address } = await lookup(name);
    if (!isPrivateAddress(address)) return; // this machine's name is public: nothing to prove here
    const partner = await receiver();
    const port = new URL(partner.url).port;
    // Saved while private endpoints were allowed, sent by a service that refuses them (as after a DNS change).
    const dataDir = tempDir();
    const first = await startService({ dataDir });
    const id = await launchCurrent(first, `http://${name}:${port}/hook`, ["users.messages.email.Send"]);
    await first.app.close();
    const svc = await service({ dataDir, config: { allowPrivateEndpoints: false } });
    await svc.ingest([sampleEvent("users.messages.email.Send")]);
    await waitFor(async () => (await svc.admin("GET", `/api/v1/currents/${id}`)).body.status === "failing");
    expect((await svc.admin("GET", `/api/v1/currents/${id}`)).body.statusReason).toMatch(/refused/);
    expect(partner.requests.length).toBe(0);
  });

  it("never follows redirects", async () => {
    const inner = await receiver();
    const outer = await receiver(() => ({ status: 302, headers: { location: inner.url } }));
    const svc = await service();
    const id = await launchCurrent(svc, outer.url, ["users.messages.email.Send"]);
    await svc.ingest([sampleEvent("users.messages.email.Send")]);
    // The 302 is an unlisted answer: retried, never followed (retries reach the outer endpoint only).
    await waitFor(() => outer.requests.length >= 2, 10_000, "a retry after the 302");
    expect(inner.requests.length).toBe(0);
    expect((await svc.admin("GET", `/api/v1/currents/${id}`)).body.stats.delivered).toBe(0);
  });
});

describe("hard edges", () => {
  it("rate-limits each ingest key with 429 and Retry-After", async () => {
    const svc = await service({ config: { ingestRateLimit: 100 } });
    const batch = (n: number) => Array.from({ length: n }, () => sampleEvent("users.messages.email.Send"));
    expect((await svc.ingest(batch(150))).status).toBe(200);
    const limited = await svc.ingest(batch(150));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(limited.body.error.message).toMatch(/rate limit of 100 events\/s/);
    // Another key has its own budget.
    const other = (await svc.admin("POST", "/api/v1/ingest-keys", { workspace: "default" })).body.key as string;
    expect((await svc.ingest(batch(10), other)).status).toBe(200);
  });

  it("logs in to an HttpOnly SameSite=Strict session whose changes need the CSRF token", async () => {
    const svc = await service();
    const login = (token: string) => fetch(`${svc.url}/api/v1/session`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ token }) });
    expect((await login("wrong-token")).status).toBe(401);
    const ok = await login(ADMIN);
    expect(ok.status).toBe(200);
    const setCookie = ok.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^currents_session=[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+/);
    const { csrfToken, role } = (await ok.json()) as { csrfToken: string; role: string };
    expect(role).toBe("admin");
    const cookie = setCookie.split(";")[0] as string;
    const withCookie = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) =>
      fetch(`${svc.url}${path}`, { method, headers: { cookie, ...(body ? { "content-type": "application/json" } : {}), ...headers }, body: body ? JSON.stringify(body) : undefined });
    expect((await withCookie("GET", "/api/v1/currents")).status).toBe(200);
    expect(await (await withCookie("GET", "/api/v1/session")).json()).toEqual({ role: "admin", csrfToken });
    const current = { name: "x", partner: "heap", settings: { endpoint: "https://example.com/x" }, events: [] };
    const noCsrf = await withCookie("POST", "/api/v1/currents", {}, current);
    expect(noCsrf.status).toBe(403);
    expect(await noCsrf.text()).toMatch(/CSRF/);
    expect((await withCookie("POST", "/api/v1/currents", { "x-csrf-token": "forged" }, current)).status).toBe(403);
    expect((await withCookie("POST", "/api/v1/currents", { "x-csrf-token": csrfToken }, current)).status).toBe(201);
    expect((await withCookie("DELETE", "/api/v1/session")).status).toBe(204);
    expect((await withCookie("GET", "/api/v1/currents")).status).toBe(401);
    expect(await (await withCookie("GET", "/api/v1/session")).json()).toEqual({ role: null });
    // Guessing tokens is slowed down.
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await login(`guess-${i}`)).status);
    expect(statuses.slice(0, 9).every((x) => x === 401)).toBe(true); // with the wrong login above: 10 failures allowed
    expect(statuses.slice(10)).toContain(429);
  });

  it("slows guessing through the Authorization header too: after 10 failures even the right token waits", async () => {
    const svc = await service();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await svc.call("GET", "/api/v1/currents", undefined, `wrong-token-${i}`)).status);
    expect(statuses.slice(0, 10).every((x) => x === 401)).toBe(true);
    const throttled = await svc.call("GET", "/api/v1/currents", undefined, `wrong-token-x`);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await svc.admin("GET", "/api/v1/currents")).status).toBe(429);
  });

  it("refuses a bearer token no HTTP header can carry, and never sends a kept token to a new host", async () => {
    const svc = await service();
    for (const token of ["tök-1234", "tok\u0001en", "two words"]) {
      const r = await svc.admin("POST", "/api/v1/currents", { name: "x", partner: "heap", settings: { endpoint: "https://example.com/x", bearerToken: token }, events: [] });
      expect(r.status, token).toBe(400);
      expect(r.body.error.field).toBe("settings.bearerToken");
    }
    const created = await svc.admin("POST", "/api/v1/currents", { name: "x", partner: "heap", settings: { endpoint: "https://example.com/x", bearerToken: "secret-token-abcd" }, events: [] });
    const id = created.body.id as string;
    expect(created.body.settings.bearerToken).toBe("****abcd");
    const moved = await svc.admin("PATCH", `/api/v1/currents/${id}`, { settings: { endpoint: "https://evil.example.net/x", bearerToken: "****abcd" } });
    expect(moved.status).toBe(400);
    expect(moved.body.error.field).toBe("settings.bearerToken");
    expect(moved.body.error.message).toMatch(/another host/);
    // Same host, another path: the kept token stays. A new host with the token given again: fine.
    expect((await svc.admin("PATCH", `/api/v1/currents/${id}`, { settings: { endpoint: "https://example.com/other", bearerToken: "****abcd" } })).status).toBe(200);
    expect((await svc.admin("PATCH", `/api/v1/currents/${id}`, { settings: { endpoint: "https://other.example.org/x", bearerToken: "secret-token-efgh" } })).status).toBe(200);
  });

  it("closes the connection of a client that stalls in the middle of its request", async () => {
    const svc = await service({ config: { clientTimeoutMs: 300 } });
    const { port } = new URL(svc.url);
    const net = await import("node:net");
    const socket = net.connect(Number(port), "127.0.0.1");
    await new Promise((r) => socket.once("connect", r));
    socket.write(`POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${INGEST}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"events":[`);
    const started = Date.now();
    await new Promise((r) => socket.once("close", r));
    expect(Date.now() - started).toBeLessThan(5_000); // closed by the server, not left hanging
    expect((await fetch(`${svc.url}/healthz`)).status).toBe(200);
  });

  it("gives a read-only token reads, not changes", async () => {
    const svc = await service({ config: { readonlyToken: "read-only-token-0123456789" } });
    const ro = (method: string, path: string, body?: unknown) => svc.call(method, path, body, "read-only-token-0123456789");
    expect((await ro("GET", "/api/v1/currents")).status).toBe(200);
    expect((await ro("GET", "/api/v1/event-types")).status).toBe(200);
    const denied = await ro("POST", "/api/v1/currents", { name: "x", partner: "heap", settings: { endpoint: "https://example.com/x" }, events: [] });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toMatch(/read-only/);
    expect((await ro("POST", "/api/v1/ingest-keys", { workspace: "default" })).status).toBe(403);
  });

  it("records admin actions in the audit log, and sets security headers", async () => {
    const svc = await service();
    const partner = await receiver();
    const id = await launchCurrent(svc, partner.url, ["users.messages.email.Send"]);
    await svc.admin("PATCH", `/api/v1/currents/${id}`, { name: "renamed" });
    await svc.admin("DELETE", `/api/v1/currents/${id}`);
    const audit = await svc.admin("GET", "/api/v1/audit");
    expect(audit.body.audit.map((a: { action: string; target: string | null; status: number }) => [a.action, a.target, a.status])).toEqual([
      ["DELETE /api/v1/currents/:id", id, 204],
      ["PATCH /api/v1/currents/:id", id, 200],
      ["POST /api/v1/currents/:id/launch", id, 200],
      ["POST /api/v1/currents", null, 201],
    ]);
    expect(audit.headers.get("x-content-type-options")).toBe("nosniff");
    expect(audit.headers.get("x-frame-options")).toBe("DENY");
    expect(audit.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
  });
});
