import { AsyncLocalStorage } from "node:async_hooks";
import type { Logger } from "pino";

/**
 * The logger of the request being answered (it carries the request id), for code that runs
 * on behalf of a request without being handed it (the Current service, credentials): every
 * line a request causes carries its `reqId`. Outside a request, the logger given.
 */
const context = new AsyncLocalStorage<{ log: Logger }>();

export function runWithRequestLogger<T>(log: Logger, fn: () => T): T {
  return context.run({ log }, fn);
}

export function requestLogger(fallback: Logger): Logger {
  return context.getStore()?.log ?? fallback;
}
