import { parentPort, workerData } from "node:worker_threads";
import { type AppendRequest, AppendWriter } from "./append-writer.js";
import { openDatabase } from "./open-database.js";

/**
 * The embedded store's writer, on its own thread so that SQLite inserts and fsyncs never
 * hold the event loop that parses requests and delivers batches. Every request that
 * arrived while the previous transaction ran is written in the next one (group commit).
 */
const { file, dedupeWindowMs } = workerData as { file: string; dedupeWindowMs: number };
const db = openDatabase(file);
// The writer only appends: a small page cache is enough (readers keep the larger one).
db.pragma("cache_size = -8192");
const writer = new AppendWriter(db, dedupeWindowMs);
let queue: AppendRequest[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  const batch = queue;
  queue = [];
  try {
    parentPort?.postMessage({ kind: "written", replies: writer.write(batch) });
  } catch (error) {
    parentPort?.postMessage({ kind: "failed", ids: batch.map((r) => r.id), message: (error as Error).message, code: (error as { code?: string }).code });
  }
}

parentPort?.on("message", (msg: { kind: "append"; request: AppendRequest } | { kind: "close" }) => {
  if (msg.kind === "close") {
    if (queue.length > 0) flush();
    db.close();
    parentPort?.close();
    return;
  }
  queue.push(msg.request);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});
