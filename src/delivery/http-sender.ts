import { Agent, request } from "undici";
import type { OutgoingRequest } from "../partners/define-partner.js";
import { type EndpointPolicy, checkEndpointUrl, guardedLookup } from "../security/ssrf-guard.js";
import type { AttemptResult } from "./attempt-outcome.js";

export interface HttpSenderOptions {
  readonly policy: EndpointPolicy;
  /** How much of an answer's body is kept for attempts and dead letters. */
  readonly excerptBytes?: number;
}

/**
 * Sends partner requests over keep-alive connections (undici). Every connection goes
 * through the SSRF guard's lookup, redirects are never followed, and no answer is read
 * beyond a short excerpt.
 */
export class HttpSender {
  readonly #agent: Agent;
  readonly #policy: EndpointPolicy;
  readonly #excerptBytes: number;

  constructor(options: HttpSenderOptions) {
    this.#policy = options.policy;
    this.#excerptBytes = options.excerptBytes ?? 1024;
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
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await request(req.url, {
        method: "POST",
        headers: req.headers,
        body: req.body,
        dispatcher: this.#agent,
        signal: combined,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      let excerpt = "";
      for await (const chunk of res.body) {
        if (excerpt.length < this.#excerptBytes) excerpt += (chunk as Buffer).toString("utf8");
      }
      const retryAfter = res.headers["retry-after"];
      return {
        kind: "answered",
        status: res.statusCode,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        excerpt: excerpt.slice(0, this.#excerptBytes),
        latencyMs: latency(),
      };
    } catch (error) {
      const e = error as Error & { code?: string; cause?: { code?: string; message?: string } };
      const code = e.code ?? e.cause?.code;
      if (code === "ECURRENTS_SSRF" || e.cause?.code === "ECURRENTS_SSRF") {
        return { kind: "error", error: `endpoint refused: ${e.cause?.message ?? e.message}`, refused: true, latencyMs: latency() };
      }
      const timedOut = timeout.aborted && !(signal?.aborted ?? false);
      const what = timedOut ? `timeout after ${timeoutMs} ms` : signal?.aborted ? "aborted (shutting down)" : `connection error: ${code ?? e.message}`;
      return { kind: "error", error: what, refused: false, latencyMs: latency() };
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}
