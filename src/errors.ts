/** A client's mistake: answered with a 4xx naming what is wrong, never logged as a fault. */
export class ClientError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "ClientError";
  }
}

export const invalid = (field: string, message: string) => new ClientError(400, "invalid_input", `${field}: ${message}`, field);
export const notFound = (what: string) => new ClientError(404, "not_found", `${what} not found`);
export const conflict = (message: string) => new ClientError(409, "conflict", message);
