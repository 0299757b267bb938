// What a Node team would build instead: BullMQ on Redis. Ingest adds one job per request
// (durable in Redis once add() resolves); a worker posts the job's events in batches of 100.
import http from "node:http";
import { batchPoster } from "./lib.mjs";
import { Queue, Worker } from "bullmq";

const connection = { host: "127.0.0.1", port: 6379 };
const name = `currents-bench-${process.pid}`;
const queue = new Queue(name, { connection });
const send = batchPoster(process.env.RELAY_TARGET);
const worker = new Worker(name, async (job) => {
  const events = job.data.events;
  const sends = [];
  for (let i = 0; i < events.length; i += 100) sends.push(send(events.slice(i, i + 100)));
  await Promise.all(sends);
}, { connection, concurrency: 4, removeOnComplete: { count: 0 }, removeOnFail: { count: 1000 } });
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", async () => {
    const { events } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    await queue.add("batch", { events }, { removeOnComplete: true });
    res.writeHead(200, { "content-type": "application/json" }).end(`{"accepted":${events.length},"rejected":[]}`);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(`relay listening on http://127.0.0.1:${server.address().port}`));
process.on("SIGTERM", async () => {
  await worker.close();
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  process.exit(0);
});
