// The ceiling: a minimal pass-through relay with no durability and no validation. It parses
// each ingest body, re-batches events by 100 and POSTs them to the receiver.
import http from "node:http";

const target = new URL(process.env.RELAY_TARGET);
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
let buffer = [];
const send = (events) => new Promise((resolve) => {
  const req = http.request(target, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => { res.resume(); res.on("end", resolve); });
  req.on("error", resolve);
  req.end(JSON.stringify({ events }));
});
const flush = () => { while (buffer.length >= 100) void send(buffer.splice(0, 100)); };
setInterval(() => { if (buffer.length > 0) void send(buffer.splice(0, buffer.length)); }, 1000).unref();
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const { events } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    for (const e of events) buffer.push(e);
    flush();
    res.writeHead(200, { "content-type": "application/json" }).end(`{"accepted":${events.length},"rejected":[]}`);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => console.log(`relay listening on http://127.0.0.1:${server.address().port}`));
process.on("SIGTERM", () => process.exit(0));
