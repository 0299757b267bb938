import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeHeapOptions {
  readonly port?: number;
  readonly host?: string;
  /** The App IDs Heap knows; others get 401 (Heap's real code for an unknown app is not documented). */
  readonly appIds?: readonly string[];
  /** Heap's limits per window (default a minute): events per app and per identity. */
  readonly windowMs?: number;
  readonly appEventsPerWindow?: number;
  readonly identityEventsPerWindow?: number;
  /** Answers a request before the rules, e.g. 503 on purpose; undefined: the rules decide. */
  readonly misbehave?: (path: string, body: unknown, index: number) => { status: number; body?: string; headers?: Record<string, string> } | "reset" | undefined;
}

export interface HeapTrackedEvent {
  readonly identity: string;
  readonly event: string;
  readonly timestamp: string;
  readonly idempotency_key: string;
  readonly properties: Record<string, string | number>;
  /** When it arrived (ms). */
  readonly at: number;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * A local stand-in for Heap's server-side API that enforces every documented rule
 * (PARTNER-FORMATS.md section 6): `app_id` present and known; at most 1,000 events or users a
 * request; identity a string of at most 255 characters; `event` at most 1,024; ISO 8601
 * timestamps; property values strings or numbers under 1,024 characters; no `id` user
 * property; 429 above the app's and an identity's events per window. A request with a bad
 * event gets a plain-text 400 like Heap's. Events are kept once per `idempotency_key` (a
 * repeated key does not update data, as at Heap); repeats are counted.
 */
export class FakeHeap {
  /** Every accepted event, once per idempotency key. */
  readonly events = new Map<string, HeapTrackedEvent>();
  /** Accepted events whose key was seen before (retries). */
  repeats = 0;
  /** Users' properties, by identity, as last set; and how many add_user_properties entries came per identity. */
  readonly users = new Map<string, Record<string, string | number>>();
  readonly userUpdates = new Map<string, number>();
  /** Answers by status, and the requests that got 429. */
  readonly answers = new Map<number, number>();
  requests = 0;
  readonly #appLog: Array<{ at: number; n: number }> = [];
  readonly #identityLog = new Map<string, Array<{ at: number; n: number }>>();
  #server: http.Server | undefined;
  readonly #sockets = new Set<import("node:net").Socket>();

  constructor(private readonly o: FakeHeapOptions = {}) {}

  async start(): Promise<string> {
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.#handle(req, res, Buffer.concat(chunks).toString("utf8")));
    });
    this.#server.on("connection", (s) => {
      this.#sockets.add(s);
      s.on("close", () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.#server?.listen(this.o.port ?? 0, this.o.host ?? "127.0.0.1", resolve));
    const a = this.#server.address() as AddressInfo;
    return `http://${a.address}:${a.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  /** Events accepted for one identity, in arrival order. */
  eventsOf(identity: string): HeapTrackedEvent[] {
    return [...this.events.values()].filter((e) => e.identity === identity);
  }

  #answer(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    this.answers.set(status, (this.answers.get(status) ?? 0) + 1);
    res.writeHead(status, { "content-type": status === 200 ? "application/json" : "text/plain", ...headers }).end(body);
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): void {
    const index = this.requests++;
    const path = (req.url ?? "").split("?")[0] as string;
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      return this.#answer(res, 400, "postBody should be valid JSON");
    }
    const misbehave = this.o.misbehave?.(path, body, index);
    if (misbehave === "reset") return void req.socket.destroy();
    if (misbehave) return this.#answer(res, misbehave.status, misbehave.body ?? "", misbehave.headers);
    if (req.method !== "POST" || (path !== "/api/track" && path !== "/api/add_user_properties")) return this.#answer(res, 404, "Not Found");
    const b = body as { app_id?: unknown; events?: unknown; users?: unknown };
    if (typeof b.app_id !== "string" || b.app_id === "") return this.#answer(res, 400, "postBody.app_id is required");
    if (this.o.appIds && !this.o.appIds.includes(b.app_id)) return this.#answer(res, 401, "Unknown app_id");
    const problem = path === "/api/track" ? checkTrack(b.events) : checkUsers(b.users);
    if (problem) return this.#answer(res, 400, problem);
    const now = Date.now();
    if (path === "/api/add_user_properties") {
      for (const u of b.users as Array<{ identity: string; properties: Record<string, string | number> }>) {
        this.users.set(u.identity, { ...this.users.get(u.identity), ...u.properties });
        this.userUpdates.set(u.identity, (this.userUpdates.get(u.identity) ?? 0) + 1);
      }
      return this.#answer(res, 200, "{}");
    }
    const events = b.events as Array<Omit<HeapTrackedEvent, "at">>;
    const limited = this.#overLimit(events, now);
    if (limited) return this.#answer(res, 429, limited, { "retry-after": "1" });
    this.#charge(events, now);
    for (const e of events) {
      if (this.events.has(e.idempotency_key)) this.repeats++;
      else this.events.set(e.idempotency_key, { ...e, at: now });
    }
    this.#answer(res, 200, "{}");
  }

  #used(log: Array<{ at: number; n: number }>, now: number): number {
    const from = now - (this.o.windowMs ?? 60_000);
    while (log.length > 0 && (log[0] as { at: number }).at <= from) log.shift();
    return log.reduce((sum, x) => sum + x.n, 0);
  }

  #overLimit(events: Array<{ identity: string }>, now: number): string | undefined {
    const app = this.o.appEventsPerWindow ?? 15_000;
    if (this.#used(this.#appLog, now) + events.length > app) return `Rate limit exceeded: ${app} events per app`;
    const per = new Map<string, number>();
    for (const e of events) per.set(e.identity, (per.get(e.identity) ?? 0) + 1);
    const limit = this.o.identityEventsPerWindow ?? 1_000;
    for (const [identity, n] of per) {
      if (this.#used(this.#identityLog.get(identity) ?? [], now) + n > limit) return `Rate limit exceeded: ${limit} events per identity (${identity})`;
    }
    return undefined;
  }

  #charge(events: Array<{ identity: string }>, now: number): void {
    this.#appLog.push({ at: now, n: events.length });
    const per = new Map<string, number>();
    for (const e of events) per.set(e.identity, (per.get(e.identity) ?? 0) + 1);
    for (const [identity, n] of per) {
      let log = this.#identityLog.get(identity);
      if (!log) this.#identityLog.set(identity, (log = []));
      log.push({ at: now, n });
    }
  }
}

function checkProperties(where: string, properties: unknown): string | undefined {
  if (properties === undefined) return undefined;
  if (properties === null || typeof properties !== "object" || Array.isArray(properties)) return `${where}.properties should be object`;
  for (const [k, v] of Object.entries(properties)) {
    if (k.length > 1024) return `${where}.properties key longer than 1024 characters`;
    if (typeof v === "number") continue;
    if (typeof v !== "string") return `${where}.properties.${k} should be string or number`;
    if (v.length >= 1024) return `${where}.properties.${k} should be shorter than 1024 characters`;
  }
  return undefined;
}

const badIdentity = (identity: unknown) => typeof identity !== "string" || identity === "" || identity.length > 255;

function checkTrack(events: unknown): string | undefined {
  if (!Array.isArray(events)) return "postBody.events should be array";
  if (events.length > 1000) return "postBody.events should NOT have more than 1000 items";
  for (const [i, e] of events.entries()) {
    const where = `postBody.events[${i}]`;
    if (e === null || typeof e !== "object") return `${where} should be object`;
    const x = e as Record<string, unknown>;
    if (badIdentity(x.identity)) return `${where}.identity should be a string of 1 to 255 characters`;
    if (typeof x.event !== "string" || x.event === "" || x.event.length > 1024) return `${where}.event should be a string of 1 to 1024 characters`;
    if (x.timestamp !== undefined && (typeof x.timestamp !== "string" || !ISO.test(x.timestamp))) return `${where}.timestamp should be ISO 8601`;
    if (typeof x.idempotency_key !== "string" || x.idempotency_key === "") return `${where}.idempotency_key should be string`;
    const p = checkProperties(where, x.properties);
    if (p) return p;
  }
  return undefined;
}

function checkUsers(users: unknown): string | undefined {
  if (!Array.isArray(users)) return "postBody.users should be array";
  if (users.length > 1000) return "postBody.users should NOT have more than 1000 items";
  for (const [i, u] of users.entries()) {
    const where = `postBody.users[${i}]`;
    if (u === null || typeof u !== "object") return `${where} should be object`;
    const x = u as Record<string, unknown>;
    if (badIdentity(x.identity)) return `${where}.identity should be a string of 1 to 255 characters`;
    const p = checkProperties(where, x.properties);
    if (p) return p;
    if (Object.keys(x.properties as object).some((k) => k.toLowerCase() === "id")) return `${where}.properties should not have an id property`;
  }
  return undefined;
}
