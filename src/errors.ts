/** A client's mistake (or a "not now"): answered with a 4xx naming what is wrong, never logged as a fault. */
export class ClientError extends Error {
  /** Sent as `Retry-After` (seconds). */
  retryAfterSeconds?: number;
  /** More fields of the answer, beside `error` (e.g. the per-event results of a refused request). */
  answer?: Record<string, unknown>;

  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "ClientError";
  }

  /** The same error, with a Retry-After. */
  retryAfter(seconds: number): this {
    this.retryAfterSeconds = seconds;
    return this;
  }
}

export const invalid = (field: string, message: string) => new ClientError(400, "invalid_input", `${field}: ${message}`, field);
export const notFound = (what: string) => new ClientError(404, "not_found", `${what} not found`);
export const conflict = (message: string) => new ClientError(409, "conflict", message);
