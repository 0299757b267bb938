import { readFileSync } from "node:fs";
import { type EndpointPolicy, parseCidr } from "./security/ssrf-guard.js";

/**
 * One typed configuration. Sources, strongest first: command-line flags, environment
 * variables (`CURRENTS_*`), defaults. Every problem is reported at once by `loadConfig`.
 */
export interface DeliveryDefaults {
  /** A batch is sent when it holds this many events (1..1000). @defaultValue 100 */
  readonly maxBatchEvents: number;
  /** ...or this many bytes of events. @defaultValue 1_000_000 */
  readonly maxBatchBytes: number;
  /** ...or when its oldest event has waited this long. @defaultValue 1_000 */
  readonly lingerMs: number;
  /** Batches per Current in flight at once. @defaultValue 4 */
  readonly maxInFlight: number;
  /** Timeout of one attempt. @defaultValue 10_000 */
  readonly requestTimeoutMs: number;
}

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly adminToken?: string;
  /** A read-only admin token (GET requests only), for dashboards and monitoring. */
  readonly readonlyToken?: string;
  readonly ingestKey?: string;
  /** A data import key for the default workspace (what Heap's cohort sync sends as `client_secret`). */
  readonly dataImportKey?: string;
  /** When set, cohort imports must send it as `partner_api_key`. */
  readonly partnerApiKey?: string;
  readonly masterKey?: string;
  /** Lets endpoints on loopback/private addresses through the SSRF guard. */
  readonly allowPrivateEndpoints: boolean;
  /** Private address blocks endpoints may use even when private endpoints are not allowed. */
  readonly allowedCidrs: readonly string[];
  /** Events are kept this long, delivered or not. @defaultValue 7 days */
  readonly retentionMs: number;
  /** Dead letters are kept this long. @defaultValue 30 days */
  readonly deadLetterRetentionMs: number;
  /** A Current's status history is kept this long. @defaultValue 90 days */
  readonly historyRetentionMs: number;
  /** The audit log is kept this long. @defaultValue 365 days */
  readonly auditRetentionMs: number;
  /** How long every delivery attempt is kept (the attempt log, event search). */
  readonly attemptRetentionMs: number;
  /** An event id seen within this window is acknowledged but not stored again. @defaultValue 24 h */
  readonly dedupeWindowMs: number;
  /** Ingest answers 429 while more events than this wait for a workspace's active Currents. @defaultValue 50_000_000 */
  readonly maxBacklogEvents: number;
  /** Ingest answers 507 while the data directory has less free space than this. @defaultValue 256 MB */
  readonly minFreeDiskBytes: number;
  readonly logLevel: string;
  /** A client connection silent this long is closed (slow or stuck clients). @defaultValue 60_000 */
  readonly clientTimeoutMs: number;
  /** Events a second each ingest key may send (bursts up to twice that). @defaultValue 200_000 */
  readonly ingestRateLimit: number;
  readonly delivery: DeliveryDefaults;
  /** Server mode: `postgres://...` puts everything in PostgreSQL, shared by many processes. */
  readonly databaseUrl?: string;
  /**
   * The window of partners' rate limits (Heap: events a minute). Shorter only in tests and the
   * bench, against a fake partner with the same window. @defaultValue 60_000
   */
  readonly rateWindowMs: number;
  /** Connections each process may open to PostgreSQL. @defaultValue 10 */
  readonly dbPoolMax: number;
  /**
   * JetStream mode: the event log lives in a NATS JetStream stream (`nats://host:port`, several
   * servers comma-separated); everything else stays in PostgreSQL (`databaseUrl`, required).
   */
  readonly nats?: {
    readonly servers: string;
    /** The stream's name, also the first token of its subjects. @defaultValue "currents" */
    readonly stream: string;
    /** Partitions, fixed when the stream is created. @defaultValue 32 */
    readonly partitions: number;
    /** Copies of each message in a cluster (3 in production). @defaultValue 1 */
    readonly replicas: number;
  };
  /** How long a process holds a Current (or a job) without renewing it. @defaultValue 15_000 */
  readonly leaseMs: number;
  /** Notices by email: `smtp://user:pass@host:port` (never logged). */
  readonly smtpUrl?: string;
  readonly smtpFrom?: string;
  /** Notices are also POSTed as JSON to this URL. */
  readonly notifyWebhookUrl?: string;
}

export const defaultDelivery: DeliveryDefaults = {
  maxBatchEvents: 100,
  maxBatchBytes: 1_000_000,
  lingerMs: 1_000,
  maxInFlight: 4,
  requestTimeoutMs: 10_000,
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

export interface ConfigFlags {
  /** A JSON file of `CURRENTS_*` settings; flags and the environment win over it. */
  configFile?: string;
  port?: string;
  host?: string;
  dataDir?: string;
  allowPrivateEndpoints?: boolean;
}

const DAY_MS = 86_400_000;

export function loadConfig(flags: ConfigFlags = {}, processEnv: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const fromFile: Record<string, string> = {};
  const file = flags.configFile ?? processEnv.CURRENTS_CONFIG;
  if (file) {
    try {
      const parsed = JSON.parse(readFileSync(file, "utf8")) as unknown;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("it must hold a JSON object");
      for (const [k, v] of Object.entries(parsed)) {
        if (!k.startsWith("CURRENTS_")) problems.push(`config file ${file}: unknown setting "${k}" (settings are the CURRENTS_* names)`);
        else fromFile[k] = String(v);
      }
    } catch (error) {
      problems.push(`config file ${file} could not be read: ${(error as Error).message}`);
    }
  }
  const env: NodeJS.ProcessEnv = { ...fromFile, ...processEnv };
  const int = (name: string, raw: string | undefined, fallback: number, min: number, max: number): number => {
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };
  const bool = (name: string, raw: string | undefined): boolean => {
    if (raw === undefined || raw === "") return false;
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    problems.push(`${name} must be 1/0 or true/false, got "${raw}"`);
    return false;
  };
  const secret = (name: string, minLength: number): string | undefined => {
    const v = env[name];
    if (v === undefined || v === "") return undefined;
    if (v.length < minLength) problems.push(`${name} must be at least ${minLength} characters long`);
    return v;
  };

  const port = int(flags.port !== undefined ? "--port" : "CURRENTS_PORT", flags.port ?? env.CURRENTS_PORT, 4100, 0, 65535);
  const host = flags.host ?? env.CURRENTS_HOST ?? "127.0.0.1";
  const dataDir = flags.dataDir ?? env.CURRENTS_DATA_DIR ?? "./.currents";
  if (dataDir.trim() === "") problems.push("--data-dir must not be empty");
  const masterKey = env.CURRENTS_MASTER_KEY || undefined;
  if (masterKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(masterKey) && Buffer.from(masterKey, "base64").length !== 32) {
    problems.push("CURRENTS_MASTER_KEY must be 32 bytes, as 64 hex characters or base64");
  }
  const logLevel = env.CURRENTS_LOG_LEVEL ?? "info";
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(logLevel)) {
    problems.push(`CURRENTS_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent; got "${logLevel}"`);
  }
  const url = (name: string, protocols: string[]): string | undefined => {
    const v = env[name];
    if (v === undefined || v === "") return undefined;
    try {
      const u = new URL(v);
      if (!protocols.includes(u.protocol)) problems.push(`${name} must be a ${protocols.join(" or ")} URL`);
    } catch {
      problems.push(`${name} must be a URL`);
    }
    return v;
  };
  const cidrs = (raw: string | undefined): string[] => {
    const list = (raw ?? "").split(",").map((c) => c.trim()).filter(Boolean);
    for (const c of list) {
      try { parseCidr(c); } catch (error) { problems.push(`CURRENTS_ALLOWED_CIDRS: ${(error as Error).message}`); }
    }
    return list;
  };
  const config: Config = {
    port,
    host,
    dataDir,
    adminToken: secret("CURRENTS_ADMIN_TOKEN", 16),
    readonlyToken: secret("CURRENTS_READONLY_TOKEN", 16),
    ingestKey: secret("CURRENTS_INGEST_KEY", 16),
    dataImportKey: secret("CURRENTS_DATA_IMPORT_KEY", 16),
    partnerApiKey: secret("CURRENTS_PARTNER_API_KEY", 8),
    masterKey,
    allowedCidrs: cidrs(env.CURRENTS_ALLOWED_CIDRS),
    allowPrivateEndpoints: flags.allowPrivateEndpoints || bool("CURRENTS_ALLOW_PRIVATE_ENDPOINTS", env.CURRENTS_ALLOW_PRIVATE_ENDPOINTS),
    retentionMs: int("CURRENTS_RETENTION_DAYS", env.CURRENTS_RETENTION_DAYS, 7, 1, 365) * DAY_MS,
    deadLetterRetentionMs: int("CURRENTS_DEAD_LETTER_RETENTION_DAYS", env.CURRENTS_DEAD_LETTER_RETENTION_DAYS, 30, 1, 3650) * DAY_MS,
    historyRetentionMs: int("CURRENTS_HISTORY_RETENTION_DAYS", env.CURRENTS_HISTORY_RETENTION_DAYS, 90, 1, 3650) * DAY_MS,
    auditRetentionMs: int("CURRENTS_AUDIT_RETENTION_DAYS", env.CURRENTS_AUDIT_RETENTION_DAYS, 365, 1, 3650) * DAY_MS,
    attemptRetentionMs: int("CURRENTS_ATTEMPT_RETENTION_DAYS", env.CURRENTS_ATTEMPT_RETENTION_DAYS, 7, 1, 90) * DAY_MS,
    dedupeWindowMs: int("CURRENTS_DEDUPE_WINDOW_HOURS", env.CURRENTS_DEDUPE_WINDOW_HOURS, 24, 1, 24 * 30) * 3_600_000,
    maxBacklogEvents: int("CURRENTS_MAX_BACKLOG_EVENTS", env.CURRENTS_MAX_BACKLOG_EVENTS, 50_000_000, 1, Number.MAX_SAFE_INTEGER),
    minFreeDiskBytes: int("CURRENTS_MIN_FREE_DISK_MB", env.CURRENTS_MIN_FREE_DISK_MB, 256, 0, 1_000_000) * 1_048_576,
    logLevel,
    clientTimeoutMs: int("CURRENTS_CLIENT_TIMEOUT_MS", env.CURRENTS_CLIENT_TIMEOUT_MS, 60_000, 100, 3_600_000),
    ingestRateLimit: int("CURRENTS_INGEST_RATE_LIMIT", env.CURRENTS_INGEST_RATE_LIMIT, 200_000, 1, 100_000_000),
    delivery: defaultDelivery,
    databaseUrl: url("DATABASE_URL", ["postgres:", "postgresql:"]),
    rateWindowMs: int("CURRENTS_RATE_WINDOW_MS", env.CURRENTS_RATE_WINDOW_MS, 60_000, 100, 3_600_000),
    dbPoolMax: int("CURRENTS_DB_POOL_MAX", env.CURRENTS_DB_POOL_MAX, 10, 2, 1000),
    nats: env.CURRENTS_NATS_URL ? {
      servers: natsServers(env.CURRENTS_NATS_URL, problems),
      stream: env.CURRENTS_NATS_STREAM || "currents",
      partitions: int("CURRENTS_NATS_PARTITIONS", env.CURRENTS_NATS_PARTITIONS, 32, 1, 1024),
      replicas: int("CURRENTS_NATS_REPLICAS", env.CURRENTS_NATS_REPLICAS, 1, 1, 5),
    } : undefined,
    leaseMs: int("CURRENTS_LEASE_MS", env.CURRENTS_LEASE_MS, 15_000, 1_000, 600_000),
    smtpUrl: url("CURRENTS_SMTP_URL", ["smtp:", "smtps:"]),
    smtpFrom: env.CURRENTS_SMTP_FROM || undefined,
    notifyWebhookUrl: url("CURRENTS_NOTIFY_WEBHOOK_URL", ["http:", "https:"]),
  };
  if (config.databaseUrl && !masterKey) {
    problems.push("DATABASE_URL (server mode) needs CURRENTS_MASTER_KEY: every process must seal and open secrets with the same key");
  }
  if (config.nats && !config.databaseUrl) {
    problems.push("CURRENTS_NATS_URL (JetStream mode) needs DATABASE_URL: Currents, keys, positions and dead letters live in PostgreSQL");
  }
  if (config.nats && !/^[A-Za-z0-9_-]{1,32}$/.test(config.nats.stream)) problems.push("CURRENTS_NATS_STREAM must be 1-32 letters, digits, '-' or '_'");
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** `nats://a:4222,nats://b:4222` -> "a:4222,b:4222" checked one by one. */
function natsServers(raw: string, problems: string[]): string {
  for (const s of raw.split(",")) {
    try {
      if (new URL(s.trim()).protocol !== "nats:") problems.push("CURRENTS_NATS_URL must be nats:// URLs");
    } catch {
      problems.push("CURRENTS_NATS_URL must be nats:// URLs, comma-separated");
    }
  }
  return raw;
}

/** The SSRF guard's policy from the configuration. */
export function endpointPolicy(config: Config): EndpointPolicy {
  return { allowPrivate: config.allowPrivateEndpoints, allowedCidrs: config.allowedCidrs };
}
