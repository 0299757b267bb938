import { parseArgs } from "node:util";
import { type AdminApiError, adminClient, exitCodeFor, table } from "./admin-client.js";
import { progressBar } from "./progress.js";

export const manageUsage = `currents currents list|show <id>|create|launch <id>|pause <id>|resume <id>|test <id>|delete <id>
currents replay <id> --from <time> [--to <time>]   (times: ISO 8601, UNIX seconds, or ago: 90s, 30m, 2h, 7d)
currents keys create [--workspace default]|list|revoke <id>

Common options: --url (CURRENTS_URL, default http://127.0.0.1:4100), --token (CURRENTS_ADMIN_TOKEN), --json.
create: --name --partner heap|heap_api|custom_http --events a,b,c [--contact-email] [--workspace]
        heap, custom_http: --endpoint <url> [--bearer-token] [--signing-secret whsec_...] [--gzip]
        heap_api: --app-id <digits> [--region us|eu] [--identity external_user_id|user_id|<path>]
                  [--event-names type|friendly] [--prefix braze-] [--user-properties path=name,path=name]
                  [--app-events-per-minute N] [--identity-events-per-minute N] [--base-url <url>]
        [--max-batch-events N] [--max-batch-bytes N] [--linger-ms N] [--max-in-flight N] [--request-timeout-ms N]
Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 unauthorized, 5 input rejected.`;

interface CurrentView {
  id: string; name: string; partner: string; workspace: string; status: string; statusReason: string | null; events: string[];
  settings: Record<string, unknown>; destination: string; stats: { delivered: number; pending: number; failedAttempts: number; deadLettered: number; oldestPendingAgeMs: number | null; lastError: string | null; job: { state: string; total: number; sent: number } | null };
}

const OPTIONS = {
  url: { type: "string" }, token: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" },
  name: { type: "string" }, partner: { type: "string" }, endpoint: { type: "string" }, "bearer-token": { type: "string" },
  "contact-email": { type: "string" }, events: { type: "string" }, workspace: { type: "string" }, from: { type: "string" }, to: { type: "string" },
  "signing-secret": { type: "string" }, gzip: { type: "boolean" }, "max-batch-events": { type: "string" }, "max-batch-bytes": { type: "string" },
  "linger-ms": { type: "string" }, "max-in-flight": { type: "string" }, "request-timeout-ms": { type: "string" },
  "app-id": { type: "string" }, region: { type: "string" }, identity: { type: "string" }, "event-names": { type: "string" }, prefix: { type: "string" },
  "user-properties": { type: "string" }, "app-events-per-minute": { type: "string" }, "identity-events-per-minute": { type: "string" }, "base-url": { type: "string" },
} as const;

/** Flags that are partner settings as they are (strings), and the numeric ones. */
const SETTING_FLAGS = { endpoint: "endpoint", "bearer-token": "bearerToken", "signing-secret": "signingSecret", "app-id": "appId", region: "region", identity: "identity", "event-names": "eventNames", prefix: "prefix", "base-url": "baseUrl" } as const;
const NUMERIC_SETTING_FLAGS = { "app-events-per-minute": "appEventsPerMinute", "identity-events-per-minute": "identityEventsPerMinute" } as const;

const BATCHING_FLAGS = { "max-batch-events": "maxBatchEvents", "max-batch-bytes": "maxBatchBytes", "linger-ms": "lingerMs", "max-in-flight": "maxInFlight", "request-timeout-ms": "requestTimeoutMs" } as const;

/** `currents currents ...`, `currents replay ...`, `currents keys ...`: thin over the admin API. */
export async function manageCommand(group: "currents" | "replay" | "keys", argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) { console.log(manageUsage); return 0; }
  const call = adminClient(values.url ?? process.env.CURRENTS_URL ?? "http://127.0.0.1:4100", values.token ?? process.env.CURRENTS_ADMIN_TOKEN);
  const out = (json: unknown, human: () => string) => console.log(values.json ? JSON.stringify(json, null, 2) : human());
  // With --json, errors are JSON on stderr too: {"error": {"code", "message"}}.
  const fail = (code: string, message: string, exit: number) => {
    console.error(values.json ? JSON.stringify({ error: { code, message } }) : message);
    return exit;
  };
  const usage = (why: string) => fail("usage", values.json ? why : `${why}\n\n${manageUsage}`, 2);
  const [verb, id] = group === "replay" ? ["replay", positionals[0]] : positionals;
  const needId = () => { if (!id) throw Object.assign(new Error(`"${group} ${verb}" needs an id`), { usage: true }); return id; };
  try {
    if (group === "currents") {
      switch (verb) {
        case "list": {
          const r = await call<{ currents: CurrentView[] }>("GET", `/api/v1/currents${values.workspace ? `?workspace=${encodeURIComponent(values.workspace)}` : ""}`);
          out(r.currents, () => table(["ID", "NAME", "PARTNER", "STATUS", "DELIVERED", "PENDING", "DEAD"], r.currents.map((c) => [c.id, c.name, c.partner, c.status, c.stats.delivered, c.stats.pending, c.stats.deadLettered])));
          return 0;
        }
        case "show": {
          const c = await call<CurrentView>("GET", `/api/v1/currents/${needId()}`);
          out(c, () => table(["FIELD", "VALUE"], [
            ["id", c.id], ["name", c.name], ["partner", c.partner], ["workspace", c.workspace], ["status", c.status + (c.statusReason ? ` (${c.statusReason})` : "")],
            ["destination", c.destination], ...(c.partner === "heap_api" ? [["app id", String(c.settings.appId)], ["identity", String(c.settings.identity ?? "external_user_id")]] : [["bearer token", String(c.settings.bearerToken ?? "-")]]),
            ["events", c.events.length],
            ["delivered", c.stats.delivered], ["pending", c.stats.pending], ["failed attempts", c.stats.failedAttempts], ["dead letters", c.stats.deadLettered],
            ["last error", c.stats.lastError],
          ]));
          return 0;
        }
        case "create": {
          const missing = (["name", "partner", "events"] as const).filter((k) => !values[k]);
          if (missing.length > 0) return usage(`missing ${missing.map((m) => `--${m}`).join(", ")}`);
          const batching: Record<string, number> = {};
          for (const [flag, key] of Object.entries(BATCHING_FLAGS)) {
            const raw = values[flag as keyof typeof BATCHING_FLAGS];
            if (raw === undefined) continue;
            if (!/^\d+$/.test(raw)) return usage(`--${flag} must be a whole number, got "${raw}"`);
            batching[key] = Number(raw);
          }
          const settings: Record<string, unknown> = {};
          for (const [flag, key] of Object.entries(SETTING_FLAGS)) {
            const raw = values[flag as keyof typeof SETTING_FLAGS];
            if (raw) settings[key] = raw;
          }
          for (const [flag, key] of Object.entries(NUMERIC_SETTING_FLAGS)) {
            const raw = values[flag as keyof typeof NUMERIC_SETTING_FLAGS];
            if (raw === undefined) continue;
            if (!/^\d+$/.test(raw)) return usage(`--${flag} must be a whole number, got "${raw}"`);
            settings[key] = Number(raw);
          }
          if (values.gzip) settings.gzip = true;
          if (values["user-properties"] !== undefined) {
            const pairs = values["user-properties"].split(",").map((p) => p.split("=").map((x) => x.trim())).filter((p) => p[0]);
            const bad = pairs.find((p) => p.length !== 2 || !p[1]);
            if (bad) return usage(`--user-properties takes path=name pairs joined by commas (e.g. properties.email_address=email,user.timezone=timezone), got "${bad.join("=")}"`);
            settings.userProperties = Object.fromEntries(pairs);
          }
          const c = await call<CurrentView>("POST", "/api/v1/currents", {
            name: values.name, partner: values.partner, workspace: values.workspace, contactEmail: values["contact-email"],
            settings,
            events: (values.events as string).split(",").map((e) => e.trim()).filter(Boolean),
            ...(Object.keys(batching).length > 0 ? { batching } : {}),
          });
          out(c, () => `created ${c.id} (${c.status}); launch it with: currents currents launch ${c.id}`);
          return 0;
        }
        case "launch":
        case "pause":
        case "resume": {
          const c = await call<CurrentView>("POST", `/api/v1/currents/${needId()}/${verb}`);
          out(c, () => `${c.name}: ${c.status}`);
          return 0;
        }
        case "test": {
          const r = await call<{ ok: boolean; events: number; status: number | null; latencyMs: number; error?: string }>("POST", `/api/v1/currents/${needId()}/test`);
          out(r, () => (r.ok ? `sent ${r.events} test events: HTTP ${r.status} in ${Math.round(r.latencyMs)} ms` : `test events refused: ${r.error ?? `HTTP ${r.status}`}`));
          return r.ok ? 0 : 1;
        }
        case "delete":
          await call("DELETE", `/api/v1/currents/${needId()}`);
          out({ deleted: id }, () => `deleted ${id}`);
          return 0;
        default:
          return usage(verb ? `unknown command "currents ${verb}"` : "missing command");
      }
    }
    if (group === "keys") {
      switch (verb) {
        case "create": {
          const k = await call<{ id: string; workspace: string; key: string }>("POST", "/api/v1/ingest-keys", { workspace: values.workspace ?? "default" });
          out(k, () => `ingest key for ${k.workspace} (shown once): ${k.key}\nid: ${k.id}`);
          return 0;
        }
        case "list": {
          const r = await call<{ ingestKeys: Array<{ id: string; workspace: string; key: string; createdAt: string; revokedAt: string | null }> }>("GET", "/api/v1/ingest-keys");
          out(r.ingestKeys, () => table(["ID", "WORKSPACE", "KEY", "CREATED", "REVOKED"], r.ingestKeys.map((k) => [k.id, k.workspace, k.key, k.createdAt, k.revokedAt])));
          return 0;
        }
        case "revoke":
          await call("DELETE", `/api/v1/ingest-keys/${needId()}`);
          out({ revoked: id }, () => `revoked ${id}`);
          return 0;
        default:
          return usage(verb ? `unknown command "keys ${verb}"` : "missing command");
      }
    }
    // replay
    if (!values.from) return usage("--from is required");
    const currentId = needId();
    const started = await call<{ replay: { total: number } }>("POST", `/api/v1/currents/${currentId}/replay`, { from: timeArg(values.from), ...(values.to ? { to: timeArg(values.to) } : {}) });
    const bar = values.json ? undefined : progressBar(started.replay.total, "replay");
    for (;;) {
      const c = await call<CurrentView>("GET", `/api/v1/currents/${currentId}`);
      const job = c.stats.job;
      bar?.update(job?.sent ?? 0, `${job?.sent ?? 0}/${job?.total ?? started.replay.total} events`);
      if (!job || job.state !== "running") {
        bar?.done();
        out(job, () => `replay ${job?.state ?? "unknown"}: ${job?.sent ?? 0} of ${job?.total ?? 0} events re-sent`);
        return job?.state === "done" ? 0 : 1;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (error) {
    if ((error as { usage?: boolean }).usage) return usage((error as Error).message);
    const e = error as AdminApiError;
    return fail(e.code ?? "failed", values.json ? e.message : `currents: ${e.message}`, exitCodeFor(error));
  }
}

/** ISO 8601, UNIX seconds, or a time ago: "90s", "30m", "2h", "7d". */
export function timeArg(v: string, now = Date.now()): string | number {
  const ago = /^(\d+)\s*(s|m|h|d)$/.exec(v.trim());
  if (ago) return new Date(now - Number(ago[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as "s" | "m" | "h" | "d"]).toISOString();
  return /^\d+$/.test(v) ? Number(v) : v;
}
