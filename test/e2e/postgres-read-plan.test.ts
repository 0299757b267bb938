import pg from "pg";
import { afterAll, expect, it } from "vitest";
import { READ_SQL } from "../../src/store/postgres/event-log.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import type { Store } from "../../src/store/port.js";
import { waitFor } from "../support/harness.js";
import { createDatabase, dropDatabase } from "../support/postgres.js";

/**
 * Server mode's read on a fresh database: without statistics PostgreSQL planned a bitmap scan
 * of the whole window and a sort (14 ms a read at 100,000 events instead of 0.1 ms), which
 * held a new installation's delivery far behind its ingest. The store now analyzes `events`
 * as it grows; the plan must walk the primary key in seq order and stop at the limit.
 */
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => { for (const c of cleanups.reverse()) await c(); });

it("reads a fresh database's events by walking the seq index in order, not by scanning and sorting the window", async () => {
  const db = await createDatabase();
  cleanups.push(() => dropDatabase(db.name));
  const store: Store = await openPostgresStore({ url: db.url, dedupeWindowMs: 3_600_000, poolMax: 4 });
  cleanups.push(() => store.close());
  for (let r = 0; r < 20; r++) {
    await store.events.append(Array.from({ length: 1_000 }, (_, i) => ({ workspace: "w", id: `e${r}-${i}`, type: "t", body: `{"id":"e${r}-${i}","n":${i}}` })), Date.now());
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  cleanups.push(() => client.end());
  const plan = async () => (await client.query(`EXPLAIN ${READ_SQL}`, [0, 100_000, "w", ["t"], 200])).rows.map((r: Record<string, string>) => r["QUERY PLAN"]).join("\n");
  await waitFor(async () => /Index Scan using events_pkey on events\b/.test(await plan()), 15_000, "an ordered index scan").catch(async (error: Error) => {
    throw new Error(`${error.message}; the plan is:\n${await plan()}`);
  });
  const text = await plan();
  expect(text).not.toMatch(/Bitmap Heap Scan|Sort/);
  // And the read still answers what it must.
  const read = await store.events.read({ workspace: "w", types: ["t"], afterSeq: 0, limit: 3, scanLimit: 100_000 });
  expect(read.events.map((e) => JSON.parse(e.body).id)).toEqual(["e0-0", "e0-1", "e0-2"]);
});
