import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ADMIN, INGEST } from "./harness.js";

const BIN = fileURLToPath(new URL("../../bin/currents.js", import.meta.url));

/** Runs `currents start` as its own process (built CLI), so tests can kill -9 it. */
export async function startChild(dataDir: string, extraEnv: Record<string, string> = {}, options: { startMs?: number; onOutput?: (all: string) => void } = {}): Promise<{ proc: ChildProcess; url: string; output: () => string }> {
  const startMs = options.startMs ?? 15_000;
  if (!existsSync(fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url)))) {
    throw new Error("dist/ is missing: run `npm run build` (npm test does it first)");
  }
  const proc = spawn(process.execPath, [BIN, "start", "--port", "0", "--data-dir", dataDir], {
    env: {
      ...process.env,
      CURRENTS_ADMIN_TOKEN: ADMIN,
      CURRENTS_INGEST_KEY: INGEST,
      CURRENTS_ALLOW_PRIVATE_ENDPOINTS: "1",
      CURRENTS_LOG_LEVEL: "warn",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  proc.stdout?.on("data", (c: Buffer) => {
    output += c.toString();
    options.onOutput?.(output);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`currents did not start:\n${output}`)), startMs);
    proc.stderr?.on("data", (c: Buffer) => {
      output += c.toString();
      options.onOutput?.(output);
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`currents exited with ${code}:\n${output}`));
    });
  });
  return { proc, url, output: () => output };
}

/** Resolves with the exit code, or the name of the signal that ended the process (e.g. "SIGSEGV"). */
export function exited(proc: ChildProcess): Promise<number | string | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode ?? proc.signalCode);
  return new Promise((resolve) => proc.once("exit", (code, signal) => resolve(code ?? signal)));
}
