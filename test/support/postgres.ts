import { randomBytes } from "node:crypto";
import pg from "pg";

/** The PostgreSQL the tests use (CI starts it on 127.0.0.1:5432 with trust auth). */
export const PG_ADMIN_URL = process.env.CURRENTS_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A fresh, empty database for one test file; drop it with `dropDatabase`. */
export async function createDatabase(): Promise<{ name: string; url: string }> {
  const name = `currents_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect().catch((error: Error) => {
    const where = new URL(PG_ADMIN_URL);
    where.password = "";
    throw new Error(`this test needs PostgreSQL: none answers at ${where.toString()} (${error.message}); start it (.ci/run does) or set CURRENTS_TEST_PG_URL`);
  });
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** Runs SQL as the administrator (e.g. to cut a database's connections). */
export async function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    return await admin.query(sql, params);
  } finally {
    await admin.end();
  }
}

export async function dropDatabase(name: string): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
