import { Agent, type Dispatcher, request } from "undici";
import type { OutgoingRequest } from "../partners/define-partner.js";
import { type EndpointPolicy, checkEndpointUrl, guardedLookup } from "../security/ssrf-guard.js";
import type { AttemptResult } from "./attempt-outcome.js";

export interface HttpSenderOptions {
  readonly policy: EndpointPolicy;
  /** How much of an answer's body is kept for attempts and dead letters. */
  readonly excerptBytes?: number;
  /** The most time spent reading an answer's body once its status line came. @defaultValue 2_000 */
  readonly bodyReadMs?: number;
}

/**
 * Sends partner requests over keep-alive connections (undici). Every connection goes
 * through the SSRF guard's lookup, redirects are never followed, and no answer is read
 * beyond a short excerpt: the status line settles the attempt, and a body that never ends
 * (or trickles) is cut after `excerptBytes` or `bodyReadMs`, whichever comes first.
 *
 * One AbortController and one timer per request, both released when it ends
 * (`AbortSignal.any` with `AbortSignal.timeout` kept ~60 bytes per request alive on Node 20).
 */
export class HttpSender {
  readonly #agent: Agent;
  readonly #policy: EndpointPolicy;
  readonly #excerptBytes: number;
  readonly #bodyReadMs: number;

  constructor(options: HttpSenderOptions) {
    this.#policy = options.policy;
    this.#excerptBytes = options.excerptBytes ?? 1024;
    this.#bodyReadMs = options.bodyReadMs ?? 2_000;
    this.#agent = new Agent({
      connections: 64,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      connect: { lookup: guardedLookup(this.#policy) as never, timeout: 10_000 },
    });
  }

  async send(req: OutgoingRequest, timeoutMs: number, signal?: AbortSignal): Promise<AttemptResult> {
    const started = performance.now();
    const latency = () => Math.round((performance.now() - started) * 10) / 10;
    const refusal = checkEndpointUrl(req.url, this.#policy);
    if (refusal) return { kind: "error", error: `endpoint refused: ${refusal}`, refused: true, latencyMs: 0 };
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) controller.abort();
    try {
      const res = await request(req.url, {
        method: "POST",
        headers: req.headers,
        body: req.body,
        dispatcher: this.#agent,
        signal: controller.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const latencyMs = latency();
      const excerpt = await readExcerpt(res.body, req.answerBytes ?? this.#excerptBytes, this.#bodyReadMs);
      const retryAfter = res.headers["retry-after"];
      return {
        kind: "answered",
        status: res.statusCode,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        excerpt,
        latencyMs,
      };
    } catch (error) {
      const e = error as Error & { code?: string; cause?: { code?: string; message?: string } };
      const code = e.code ?? e.cause?.code;
      if (code === "ECURRENTS_SSRF" || e.cause?.code === "ECURRENTS_SSRF") {
        return { kind: "error", error: `endpoint refused: ${e.cause?.message ?? e.message}`, refused: true, latencyMs: latency() };
      }
      const what = timedOut ? `timeout after ${timeoutMs} ms` : signal?.aborted ? "aborted (shutting down)" : `connection error: ${code ?? e.message}`;
      return { kind: "error", error: what, refused: false, latencyMs: latency() };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/**
 * Reads at most `maxBytes` of an answer's body, for at most `maxMs`; then drops the rest (the
 * connection is closed when the body was not read to its end). Never throws.
 */
async function readExcerpt(body: Dispatcher.ResponseData["body"], maxBytes: number, maxMs: number): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<"expired">((resolve) => { timer = setTimeout(() => resolve("expired"), maxMs); });
  const reading = (async () => {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      if (bytes >= maxBytes) return "enough";
    }
    return "ended";
  })().catch(() => "failed");
  const how = await Promise.race([reading, expired]);
  clearTimeout(timer);
  if (how !== "ended") body.destroy();
  return Buffer.concat(chunks).toString("utf8", 0, Math.min(bytes, maxBytes)).replace(/\uFFFD$/, "");
}
