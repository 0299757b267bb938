/**
 * A user's key, for per-user order and JetStream partitions: its `user_id`, else
 * `external_user_id`, else `device_id`; "" when the event has none (those share one lane or
 * partition).
 */
export function userKeyOf(event: unknown): string {
  const user = (event as { user?: Record<string, unknown> } | null)?.user;
  if (!user || typeof user !== "object") return "";
  const v = user.user_id ?? user.external_user_id ?? user.device_id;
  return typeof v === "string" || typeof v === "number" ? String(v) : "";
}

/** The user key of an event stored as JSON text ("" when it does not parse). */
export function userKeyOfText(body: string): string {
  try {
    return userKeyOf(JSON.parse(body));
  } catch {
    return "";
  }
}

/** FNV-1a of the key, modulo `n`: the same key always lands in the same one of `n` slots. */
export function slotOf(key: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}
