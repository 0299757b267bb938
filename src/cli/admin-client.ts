/** A thin client of the admin API for the management CLI. */
export class AdminApiError extends Error {
  /** The API's error code (e.g. "invalid_input"), or "unreachable". */
  readonly code: string;

  constructor(readonly status: number, message: string, code?: string) {
    super(message);
    this.code = code ?? (status === 0 ? "unreachable" : `http_${status}`);
  }
}

/**
 * Exit codes scripts can rely on: 0 success, 1 failure (unreachable, 5xx), 2 usage,
 * 3 not found, 4 unauthorized or forbidden, 5 input rejected (400, 409, 413, 422).
 */
export function exitCodeFor(error: unknown): number {
  if (!(error instanceof AdminApiError)) return 1;
  if (error.status === 404) return 3;
  if (error.status === 401 || error.status === 403) return 4;
  if ([400, 409, 413, 415, 422].includes(error.status)) return 5;
  return 1;
}

export function adminClient(baseUrl: string, token: string | undefined) {
  return async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    if (!token) throw new AdminApiError(401, "no admin token: pass --token or set CURRENTS_ADMIN_TOKEN");
    let res: Response;
    try {
      res = await fetch(new URL(path, baseUrl), {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new AdminApiError(0, `cannot reach Currents at ${baseUrl}: ${(error as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      throw new AdminApiError(res.status, `HTTP ${res.status}: the answer is not JSON (is ${baseUrl} a Currents service?)`, "not_json");
    }
    if (!res.ok) {
      const error = (json as { error?: { message?: string; code?: string } } | undefined)?.error;
      throw new AdminApiError(res.status, error?.message ?? `HTTP ${res.status}`, error?.code);
    }
    return json as T;
  };
}

/** Left-aligned text table. */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(headers), ...cells.map(line)].join("\n");
}
