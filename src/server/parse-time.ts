import { invalid } from "../errors.js";

/** A time given as ISO 8601 text or UNIX seconds, in ms; a 400 naming the field otherwise. */
export function parseTime(field: string, value: string | number): number {
  const ms = typeof value === "number" ? value * 1000 : /^[0-9]{1,12}$/.test(value) ? Number(value) * 1000 : Date.parse(value);
  if (!Number.isFinite(ms)) throw invalid(field, "must be an ISO 8601 time or UNIX seconds");
  return ms;
}
