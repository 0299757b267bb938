import { parseArgs } from "node:util";
import { simulateHeapCohortSync } from "../simulator/heap-cohort-sync.js";
import { progressBar } from "./progress.js";

export const cohortSyncUsage = `currents cohort-sync --url http://127.0.0.1:4100 --key <data import key> [--cohorts 3] [--users 5000] [--rounds 3] [--partner heap] [--partner-api-key <key>]

Plays Heap's cohort sync against a Currents deployment: names each cohort, sends its members in
requests of 1,000 ids, then rounds of deltas (a tenth leave, as many join).`;

export async function cohortSyncCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" }, key: { type: "string" }, cohorts: { type: "string" }, users: { type: "string" }, rounds: { type: "string" },
      partner: { type: "string" }, "partner-api-key": { type: "string" }, seed: { type: "string" }, help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) { console.log(cohortSyncUsage); return 0; }
  const problems: string[] = [];
  if (!values.url) problems.push("--url is required");
  if (!values.key) problems.push("--key is required (a data import key: dashboard, Partner Integrations > Cohorts)");
  const num = (name: string, raw: string | undefined, fallback: number, max: number) => {
    const n = Number(raw ?? fallback);
    if (!Number.isInteger(n) || n < 0 || n > max) problems.push(`--${name} must be an integer from 0 to ${max}`);
    return n;
  };
  const cohorts = num("cohorts", values.cohorts, 3, 1_000);
  const users = num("users", values.users, 5_000, 10_000_000);
  const rounds = num("rounds", values.rounds, 3, 1_000);
  if (problems.length > 0) { console.error(`${problems.join("\n")}\n\n${cohortSyncUsage}`); return 2; }
  const bar = progressBar(1, "cohort sync");
  const r = await simulateHeapCohortSync({
    url: values.url as string, key: values.key as string, partner: values.partner, partnerApiKey: values["partner-api-key"],
    cohorts, usersPerCohort: users, rounds, seed: values.seed ? Number(values.seed) : undefined,
    onProgress: (p) => {
      bar.update(p.requests / p.total, `${p.requests}/${p.total} requests, ${p.joined} joined, ${p.left} left`);
    },
  });
  bar.done();
  console.log(`${r.requests} requests: ${r.joined} joined, ${r.left} left${r.locked ? `, ${r.locked} answered 423 and were retried` : ""}; ` +
    [...r.expected].map(([id, m]) => `${id}: ${m.size} members`).join(", "));
  return 0;
}
