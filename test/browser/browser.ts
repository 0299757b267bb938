import { existsSync, mkdirSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = process.env.CURRENTS_CHROMIUM ?? "/usr/bin/chromium";
export const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url).pathname;

/**
 * Debian's chromium, headless. Without it the browser tests are skipped with a clear
 * message on a developer's machine, and fail under CI (CI=true), where .ci/run installs it.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM)) return true;
  const message = `no browser at ${CHROMIUM}: install it with "apt-get install chromium" to run the dashboard tests`;
  if (process.env.CI) throw new Error(message);
  console.warn(`SKIPPING browser tests: ${message}`);
  return false;
}

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
