import type { Store } from "./port.js";

/**
 * A Store from an adapter's parts: `ping` answers false once closed or when `check` throws,
 * and `close` runs `shutdown` once.
 */
export function assembleStore(
  parts: Omit<Store, "ping" | "close">,
  lifecycle: { check(): unknown; shutdown(): Promise<void> },
): Store {
  let closed = false;
  return {
    ...parts,
    async ping() {
      if (closed) return false;
      try {
        await lifecycle.check();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await lifecycle.shutdown();
    },
  };
}
