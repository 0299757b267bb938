// The JetStream event log alone (no HTTP): appends of 500-event requests, 8 at a time, 1,000 users over
// 32 partitions, then every partition read back by one reader. `npm run build` first; needs NATS on
// 127.0.0.1:4222 and PostgreSQL on 127.0.0.1:5432. Run: node bench/jetstream-log.mjs
import { openJetStreamStore } from "../dist/store/jetstream/index.js";
import pg from "pg";
const admin = new pg.Client({ connectionString: "postgres://postgres@127.0.0.1:5432/postgres" }); await admin.connect();
const db = "jsm_" + process.pid; await admin.query(`CREATE DATABASE ${db}`);
const stream = "jsm_" + process.pid;
const store = await openJetStreamStore({ url: `postgres://postgres@127.0.0.1:5432/${db}`, dedupeWindowMs: 864e5, servers: "nats://127.0.0.1:4222", stream, partitions: 32, replicas: 1, retentionMs: 7 * 864e5 });
const body = (i) => JSON.stringify({ id: `e${i}`, type: "users.messages.email.Send", time: 1, user: { user_id: `u${i % 1000}` }, properties: { a: "y".repeat(550) } });
const N = 100000, PER = 500, CONC = 8;
let next = 0; const t0 = performance.now();
await Promise.all(Array.from({ length: CONC }, async () => {
  while (next < N) { const s = next; next += PER;
    await store.events.append(Array.from({ length: PER }, (_, k) => ({ workspace: "default", id: `e${s + k}`, type: "users.messages.email.Send", body: body(s + k), userKey: `u${(s + k) % 1000}` })), Date.now()); }
}));
console.log(`append: ${Math.round(N / ((performance.now() - t0) / 1000))} events/s`);
let t1 = performance.now(); let got = 0;
for (let p = 0; p < 32; p++) { let after = 0; for (;;) { const r = await store.events.read({ workspace: "default", types: ["users.messages.email.Send"], afterSeq: after, limit: 2000, scanLimit: 20000, partition: p }); got += r.events.length; if (r.scannedTo === after) break; after = r.scannedTo; } }
console.log(`read by partition: ${Math.round(got / ((performance.now() - t1) / 1000))} events/s (${got})`);
await store.close();
const { connect } = await import("@nats-io/transport-node"); const { jetstreamManager } = await import("@nats-io/jetstream");
const nc = await connect({ servers: "127.0.0.1:4222" }); await (await jetstreamManager(nc)).streams.delete(stream); await nc.close();
await admin.query(`DROP DATABASE ${db} WITH (FORCE)`); await admin.end();
