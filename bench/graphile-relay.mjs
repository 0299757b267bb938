// The server-mode peer a team on PostgreSQL would build: graphile-worker. Ingest adds one job
// per request (durable once the INSERT commits); the worker posts the job's events in batches
// of 100, four jobs at a time. Jobs are picked up at once through LISTEN/NOTIFY.
import http from "node:http";
import { batchPoster } from "./lib.mjs";
import { makeWorkerUtils, run } from "graphile-worker";

const connectionString = process.env.RELAY_DATABASE_URL;
const send = batchPoster(process.env.RELAY_TARGET);
const utils = await makeWorkerUtils({ connectionString });
await utils.migrate();
const runner = await run({
  connectionString,
  concurrency: 4,
  noHandleSignals: true,
  pollInterval: 1_000,
  logger: undefined,
  taskList: {
    deliver: async (payload) => {
      const { events } = payload;
      const sends = [];
      for (let i = 0; i < events.length; i += 100) sends.push(send(events.slice(i, i + 100)));
      await Promise.all(sends);
    },
  },
});
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    const { events } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    await utils.addJob("deliver", { events }, { maxAttempts: 25 });
    res.writeHead(200, { "content-type": "application/json" }).end(`{"accepted":${events.length},"rejected":[]}`);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(`relay listening on http://127.0.0.1:${server.address().port}`));
process.on("SIGTERM", async () => {
  await runner.stop();
  await utils.release();
  process.exit(0);
});
