import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach } from "vitest";
import { startReceiver } from "./receiver.js";
import { type CurrentsApp, type CurrentsOptions, createCurrents } from "../../src/app.js";
import { type Config, loadConfig } from "../../src/config.js";

export const ADMIN = "test-admin-token-0123456789";
export const INGEST = "test-ingest-key-0123456789";

export function tempDir(prefix = "currents-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function testConfig(dataDir: string, overrides: Partial<Config> = {}): Config {
  const base = loadConfig({ port: "0", dataDir }, {
    CURRENTS_ADMIN_TOKEN: ADMIN,
    CURRENTS_INGEST_KEY: INGEST,
    CURRENTS_ALLOW_PRIVATE_ENDPOINTS: "1",
    CURRENTS_LOG_LEVEL: "silent",
  });
  // No free-disk reserve by default: a test machine's disk may be small; the 507 test sets one.
  return { ...base, minFreeDiskBytes: 0, ...overrides, delivery: { ...base.delivery, lingerMs: 50, ...overrides.delivery } };
}

/** A running service on a temp data dir, with helpers for its two APIs. */
export async function startService(options: { dataDir?: string; config?: Partial<Config>; app?: CurrentsOptions } = {}) {
  const dataDir = options.dataDir ?? tempDir();
  const config = testConfig(dataDir, options.config);
  const app: CurrentsApp = await createCurrents(config, { logger: pino({ level: "silent" }), ...options.app });
  const url = await app.listen();
  const call = async (method: string, path: string, body?: unknown, token = ADMIN, headers: Record<string, string> = {}) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = text; }
    return { status: res.status, body: json as Record<string, any>, headers: res.headers }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  return {
    app,
    url,
    dataDir,
    admin: (method: string, path: string, body?: unknown) => call(method, path, body),
    ingest: (events: unknown[], key = INGEST) => call("POST", "/v1/events", { events }, key),
    call,
    async close(removeDir = true) {
      await app.close();
      if (removeDir && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
export type Service = Awaited<ReturnType<typeof startService>>;

/** Polls `check` until it returns true (or throws after `timeoutMs`). */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Creates and launches a Current to `endpoint`; returns its id. */
export async function launchCurrent(svc: Service, endpoint: string, events: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const created = await svc.admin("POST", "/api/v1/currents", {
    name: "Test export", partner: "heap", settings: { endpoint, bearerToken: "partner-token-abcd" }, events, ...extra,
  });
  if (created.status !== 201) throw new Error(`create failed: ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  const launched = await svc.admin("POST", `/api/v1/currents/${id}/launch`);
  if (launched.status !== 200) throw new Error(`launch failed: ${JSON.stringify(launched.body)}`);
  return id;
}

/**
 * Services and receivers made through this are closed after each test, newest first.
 * Call once at the top of a test file.
 */
export function closedAfterEach() {
  const closers: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });
  return {
    add(close: () => Promise<void> | void) { closers.push(close); },
    async service(options: Parameters<typeof startService>[0] = {}) {
      const s = await startService(options);
      closers.push(() => s.close());
      return s;
    },
    async receiver(respond?: Parameters<typeof startReceiver>[0]) {
      const r = await startReceiver(respond);
      closers.push(() => r.close());
      return r;
    },
  };
}
