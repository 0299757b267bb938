/**
 * Calls the Partner Cohort Import API the way Heap's cohort sync does: each cohort's name
 * first, then its members in requests of at most 1,000 ids, then rounds of deltas (some
 * members leave, new ones join). A 423 (another request holds the cohort) is retried after
 * its Retry-After. Deterministic for a seed.
 */
export interface CohortSyncOptions {
  readonly url: string;
  /** The data import key (`client_secret`). */
  readonly key: string;
  readonly partner?: string;
  readonly partnerApiKey?: string;
  readonly cohorts?: number;
  readonly usersPerCohort?: number;
  readonly rounds?: number;
  readonly seed?: number;
  readonly onProgress?: (p: { requests: number; total: number; joined: number; left: number }) => void;
}

export interface CohortSyncResult {
  readonly requests: number;
  readonly joined: number;
  readonly left: number;
  readonly locked: number;
  /** Each cohort's members as the simulated Heap believes them (for checks). */
  readonly expected: Map<string, Set<string>>;
}

const BATCH = 1_000;

export async function simulateHeapCohortSync(o: CohortSyncOptions): Promise<CohortSyncResult> {
  const partner = o.partner ?? "heap";
  const cohorts = o.cohorts ?? 3;
  const users = o.usersPerCohort ?? 5_000;
  const rounds = o.rounds ?? 3;
  let x = o.seed ?? 42;
  const random = () => ((x = (Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32);
  const auth = { client_secret: o.key, ...(o.partnerApiKey ? { partner_api_key: o.partnerApiKey } : {}) };
  const deltaSize = Math.max(1, Math.round(users / 10));
  const total = cohorts * (1 + Math.ceil(users / BATCH) + rounds * 2 * Math.ceil(deltaSize / BATCH));
  let requests = 0;
  let joined = 0;
  let left = 0;
  let locked = 0;
  const post = async (path: string, body: unknown): Promise<Record<string, number>> => {
    for (;;) {
      const res = await fetch(`${o.url}/partners/${partner}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...auth, ...(body as object) }) });
      const answer = (await res.json().catch(() => ({}))) as Record<string, number> & { error?: { message: string } };
      if (res.status === 423) {
        locked++;
        await new Promise((r) => setTimeout(r, Number(res.headers.get("retry-after") ?? 1) * 1000));
        continue;
      }
      if (res.status !== 201) throw new Error(`${path} answered ${res.status}: ${answer.error?.message ?? JSON.stringify(answer)}`);
      requests++;
      joined += answer.joined ?? 0;
      left += answer.left ?? 0;
      o.onProgress?.({ requests, total, joined, left });
      return answer;
    }
  };
  const send = async (cohortId: string, ids: string[], remove: boolean) => {
    for (let i = 0; i < ids.length; i += BATCH) {
      await post("/cohorts/users", { cohort_id: cohortId, cohort_changes: [{ user_ids: ids.slice(i, i + BATCH), should_remove: remove }] });
    }
  };
  const expected = new Map<string, Set<string>>();
  let next = 0;
  for (let c = 0; c < cohorts; c++) {
    const cohortId = `heap-${c + 1}`;
    await post("/cohorts", { cohort_id: cohortId, name: ["Power users", "At risk of churn", "Trial, day 3", "Checkout abandoners"][c % 4] + (c >= 4 ? ` ${c + 1}` : ""), created_at: new Date(Date.UTC(2026, 10, 1 + c)).toISOString() });
    const members = Array.from({ length: users }, () => `user-${next++}`);
    expected.set(cohortId, new Set(members));
    await send(cohortId, members, false);
  }
  for (let r = 0; r < rounds; r++) {
    for (const [cohortId, members] of expected) {
      const current = [...members];
      const leaving = Array.from({ length: Math.min(deltaSize, current.length) }, () => current[Math.floor(random() * current.length)] as string);
      const joining = Array.from({ length: deltaSize }, () => `user-${next++}`);
      await send(cohortId, [...new Set(leaving)], true);
      for (const id of leaving) members.delete(id);
      await send(cohortId, joining, false);
      for (const id of joining) members.add(id);
    }
  }
  return { requests, joined, left, locked, expected };
}
