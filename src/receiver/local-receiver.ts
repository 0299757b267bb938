import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

export interface ReceiverOptions {
  readonly port?: number;
  readonly host?: string;
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  readonly token?: string;
  /** Called for each request that arrived (for printing). */
  readonly onBatch?: (info: {
    events: number; duplicates: number; status: number; types: Record<string, number>;
    /** The request's headers (the bearer token masked), its body as received (after gzip), and the sending Current (from the Idempotency-Key). */
    headers: Record<string, string>; body: string; currentId: string | null;
  }) => void;
}

/**
 * A local receiver standing in for Heap: takes Currents batches, checks the bearer token,
 * dedupes by event `id` and counts by type. Used by `currents demo` and `currents receiver`.
 */
export class LocalReceiver {
  readonly byType = new Map<string, number>();
  readonly #seen = new Set<string>();
  received = 0;
  duplicates = 0;
  requests = 0;
  #server: http.Server | undefined;

  constructor(private readonly options: ReceiverOptions = {}) {}

  get unique(): number {
    return this.#seen.size;
  }

  async start(): Promise<string> {
    this.#server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.requests++;
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, k === "authorization" ? String(v).replace(/(Bearer\s+).*(.{4})$/i, "$1****$2") : String(v)]));
        const currentId = /^([^:]+):/.exec(String(req.headers["idempotency-key"] ?? ""))?.[1] ?? null;
        const reply = (status: number, body: unknown) => {
          res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
          return status;
        };
        if (this.options.token && req.headers.authorization !== `Bearer ${this.options.token}`) {
          const status = reply(401, { error: "bad or missing bearer token" });
          this.options.onBatch?.({ events: 0, duplicates: 0, status, types: {}, headers, body: "", currentId });
          return;
        }
        let events: Array<{ id?: unknown; event_type?: unknown }>;
        let raw: Buffer;
        try {
          raw = req.headers["content-encoding"] === "gzip" ? gunzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks);
          events = (JSON.parse(raw.toString("utf8")) as { events: typeof events }).events;
          if (!Array.isArray(events)) throw new Error("no events array");
        } catch (error) {
          reply(400, { error: `not a Currents batch: ${(error as Error).message}` });
          return;
        }
        const types: Record<string, number> = {};
        let duplicates = 0;
        for (const e of events) {
          const id = String(e.id);
          if (this.#seen.has(id)) { duplicates++; continue; }
          this.#seen.add(id);
          const t = String(e.event_type);
          types[t] = (types[t] ?? 0) + 1;
          this.byType.set(t, (this.byType.get(t) ?? 0) + 1);
        }
        this.received += events.length;
        this.duplicates += duplicates;
        const status = reply(200, { ok: true });
        this.options.onBatch?.({ events: events.length, duplicates, status, types, headers, body: raw.toString("utf8"), currentId });
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.#server?.once("error", reject);
      this.#server?.listen(this.options.port ?? 0, this.options.host ?? "127.0.0.1", () => resolve());
    });
    const { port } = this.#server.address() as AddressInfo;
    return `http://${this.options.host ?? "127.0.0.1"}:${port}/currents`;
  }

  async close(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
