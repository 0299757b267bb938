import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/** What the receiver does with one request. */
export type Behaviour =
  | { status: number; body?: string; headers?: Record<string, string> }
  | { hang: true }
  | { reset: true }
  | { delayMs: number; status: number }
  /** The test answers itself, when and how it likes (held answers, bodies that never end). */
  | { answer: (res: http.ServerResponse) => void };

export interface ReceivedRequest {
  readonly headers: http.IncomingHttpHeaders;
  readonly events: Array<Record<string, unknown>>;
  readonly raw: string;
  readonly at: number;
}

/**
 * A local HTTP receiver standing in for the partner. It records every request and answers
 * as `respond` says (default 200), so tests can make it fail on purpose: 5xx, 429 with
 * Retry-After, 400 for one event, 401, 413, hangs, connection resets.
 */
export async function startReceiver(respond?: (req: ReceivedRequest, index: number) => Behaviour) {
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<import("node:net").Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let buf = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") buf = gunzipSync(buf);
      const raw = buf.toString("utf8");
      let events: Array<Record<string, unknown>> = [];
      try {
        events = (JSON.parse(raw) as { events: Array<Record<string, unknown>> }).events;
      } catch {
        events = [];
      }
      const received: ReceivedRequest = { headers: req.headers, events, raw, at: Date.now() };
      const index = requests.length;
      requests.push(received);
      const b = respond ? respond(received, index) : { status: 200 };
      if ("hang" in b) return;
      if ("answer" in b) return b.answer(res);
      if ("reset" in b) return req.socket.destroy();
      if ("delayMs" in b) {
        setTimeout(() => res.writeHead(b.status).end("{}"), b.delayMs);
        return;
      }
      res.writeHead(b.status, { "content-type": "application/json", ...b.headers }).end(b.body ?? "{}");
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    /** Every event received, in arrival order. */
    events: () => requests.flatMap((r) => r.events),
    /** Successful requests' events only (what the partner kept). */
    acceptedEvents: (isAccepted: (r: ReceivedRequest, i: number) => boolean) => requests.filter(isAccepted).flatMap((r) => r.events),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;
