import { StoreUnavailableError } from "../port.js";

/** Error codes and messages that mean "the database cannot be reached right now". */
/** Connection failures, shutdowns, too many connections, and statements cancelled by their timeout (57014). */
const UNAVAILABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH", "57P01", "57P02", "57P03", "53300", "57014"]);

export function isUnavailable(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  if (e?.code && (UNAVAILABLE_CODES.has(e.code) || e.code.startsWith("08"))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable|not currently accepting connections|Query read timeout/i.test(e?.message ?? "");
}

/** Runs a database call; connection failures become StoreUnavailableError (no URL, no password). */
export async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isUnavailable(error)) throw new StoreUnavailableError(`the database is unreachable: ${(error as Error).message}`, { cause: error });
    throw error;
  }
}
