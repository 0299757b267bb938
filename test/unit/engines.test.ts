import { readFileSync } from "node:fs";
import semver from "semver";
import { describe, expect, it } from "vitest";

/** Every installed package runs on the Node versions the project declares (no EBADENGINE at install). */
describe("engines", () => {
  it("no package in the lock file requires a Node the package.json does not promise", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { engines: { node: string } };
    const lock = JSON.parse(readFileSync(new URL("../../package-lock.json", import.meta.url), "utf8")) as { packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }> };
    const lowest = semver.minVersion(pkg.engines.node)?.version as string;
    const offenders = Object.entries(lock.packages)
      .filter(([path, p]) => path !== "" && !Array.isArray(p.engines) && p.engines?.node && !semver.satisfies(lowest, p.engines.node))
      .map(([path, p]) => `${path.replace(/^.*node_modules\//, "")} (node ${(p.engines as { node: string }).node})`);
    expect(offenders, `declared node ${pkg.engines.node}`).toEqual([]);
  });
});
