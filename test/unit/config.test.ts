import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { tempDir } from "../support/harness.js";

describe("configuration", () => {
  it("takes flags over the environment over a config file over defaults", () => {
    const file = join(tempDir(), "currents.json");
    writeFileSync(file, JSON.stringify({ CURRENTS_PORT: 4500, CURRENTS_RETENTION_DAYS: 3, CURRENTS_HOST: "0.0.0.0" }));
    const c = loadConfig({ configFile: file, host: "127.0.0.2" }, { CURRENTS_RETENTION_DAYS: "5" });
    expect(c.port).toBe(4500);
    expect(c.retentionMs).toBe(5 * 86_400_000);
    expect(c.host).toBe("127.0.0.2");
    expect(c.delivery).toMatchObject({ maxBatchEvents: 100, maxBatchBytes: 1_000_000, lingerMs: 1_000, maxInFlight: 4, requestTimeoutMs: 10_000 });
    expect(loadConfig({}, {})).toMatchObject({ port: 4100, host: "127.0.0.1", dataDir: "./.currents", allowPrivateEndpoints: false, ingestRateLimit: 200_000 });
  });

  it("reports every problem at once, the config file's too", () => {
    const file = join(tempDir(), "bad.json");
    writeFileSync(file, JSON.stringify({ port: 1, CURRENTS_PORT: "x" }));
    try {
      loadConfig({ configFile: file }, { CURRENTS_LOG_LEVEL: "loud", CURRENTS_SMTP_URL: "http://nope" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join("\n");
      expect(problems).toMatch(/unknown setting "port"/);
      expect(problems).toMatch(/CURRENTS_PORT must be an integer/);
      expect(problems).toMatch(/CURRENTS_LOG_LEVEL must be one of/);
      expect(problems).toMatch(/CURRENTS_SMTP_URL must be a smtp: or smtps: URL/);
    }
    expect(() => loadConfig({ configFile: "/nonexistent/currents.json" }, {})).toThrow(/could not be read/);
  });
});
