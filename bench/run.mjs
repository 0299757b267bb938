// `npm run bench`: Currents on the embedded store against a pass-through relay and a BullMQ
// build of the same flow, measured side by side in one run. Prints a table, writes JSON.
// Sizes: BENCH_EVENTS (default 200000), BENCH_BACKLOG (1000000), BENCH_RUNS (3).
// Server mode uses the PostgreSQL at BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres);
// JetStream mode also the NATS server at BENCH_NATS_URL (default nats://127.0.0.1:4222).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { FakeHeap } from "../dist/receiver/fake-heap.js";
import { cpuMeter, makeBodies, median, peakRssMb, percentile, produce, rssMb, startProcess, startReceiver, stopProcess } from "./lib.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const BACKLOG = Number(process.env.BENCH_BACKLOG ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const STEADY_BACKLOG = Number(process.env.BENCH_STEADY_BACKLOG ?? 5_000_000);
const MEMORY_EVENTS = Number(process.env.BENCH_MEMORY_EVENTS ?? 2_000_000);
const HEAP_EVENTS = Number(process.env.BENCH_HEAP_EVENTS ?? 5_000);
// Heap's limit is 15,000 events a minute per app; the bench shortens the window (same limit per minute).
const HEAP_WINDOW_MS = Number(process.env.BENCH_HEAP_WINDOW_MS ?? 2_000);
// BENCH_ONLY=e2e,ingest,... runs some scenarios only (relay, e2e, ordered, bullmq, ingest, fresh, backlog, fanout, pg, graphile, js, steady, memory, heap).
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : null;
const wanted = (name) => !ONLY || ONLY.has(name);
const ADMIN = "bench-admin-token-0123456789";
const PG_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NATS_URL = process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222";

async function deleteStream(name) {
  const nc = await connect({ servers: NATS_URL.replace(/^nats:\/\//, "") });
  await (await jetstreamManager(nc)).streams.delete(name).catch(() => undefined);
  await nc.close();
}
const KEY = "bench-ingest-key-0123456789";
// A bench Current sends up to this many batches at once (BENCH_IN_FLIGHT; the product's default is 4).
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 8);
const log = (...a) => console.error(...a);
/** CPU accounting of the scenario run last (cores used by each part while it was measured); repeat() keeps it per scenario. */
let lastCpu = null;
const cpuByScenario = {};

async function startCurrents(env = {}) {
  const dir = mkdtempSync(join(os.tmpdir(), "currents-bench-"));
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the Currents processes (and their writer thread).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const { proc, match } = await startProcess([...nodeArgs, join(ROOT, "bin/currents.js"), "start", "--port", "0", "--data-dir", dir],
    { CURRENTS_ADMIN_TOKEN: ADMIN, CURRENTS_INGEST_KEY: KEY, CURRENTS_ALLOW_PRIVATE_ENDPOINTS: "1", CURRENTS_LOG_LEVEL: "error", ...env }, /listening on (http:\/\/\S+)/);
  const url = match[1];
  const api = async (method, path, body) => {
    const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    proc, url, api,
    async addCurrent(endpoint, extra = {}) {
      // Up to IN_FLIGHT requests at once: the same 8 connections every relay and peer posts over (see bench/README.md).
      const c = await api("POST", "/api/v1/currents", { name: "bench", partner: "custom_http", settings: { endpoint }, events: ["users.messages.email.Send"], batching: { maxInFlight: IN_FLIGHT }, ...extra });
      await api("POST", `/api/v1/currents/${c.id}/launch`);
      return c.id;
    },
    async stop() { await stopProcess(proc); rmSync(dir, { recursive: true, force: true }); },
  };
}

async function startRelay(script, target, env = {}) {
  const { proc, match } = await startProcess([join(ROOT, "bench", script)], { RELAY_TARGET: target, ...env }, /listening on (http:\/\/\S+)/);
  return { proc, url: match[1], stop: () => stopProcess(proc) };
}

/** Events/s from the first ingest request to the last event at the receiver. */
async function flowThroughput(kind, n, tag) {
  const receiver = await startReceiver();
  const currents = kind === "currents" || kind === "ordered";
  const server = currents ? await startCurrents() : await startRelay(kind === "relay" ? "passthrough-relay.mjs" : "bullmq-relay.mjs", receiver.url);
  if (currents) await server.addCurrent(receiver.url, kind === "ordered" ? { ordering: "per_user" } : {});
  const bodies = makeBodies(n, 500, tag);
  const meter = cpuMeter({ [currents ? "currents" : kind]: server.proc.pid });
  const t0 = performance.now();
  const ingestMs = await produce(`${server.url}/v1/events`, KEY, bodies);
  const atIngestEnd = receiver.count;
  await receiver.waitFor(n);
  const rate = n / ((receiver.lastAt - t0) / 1000);
  lastCpu = meter();
  log(`    ${kind}: ingest done in ${Math.round(ingestMs)} ms (${atIngestEnd} of ${n} delivered then), last arrival at ${Math.round(receiver.lastAt - t0)} ms`);
  await server.stop();
  await receiver.close();
  return rate;
}

async function ingestAlone(n, tag) {
  const s = await startCurrents();
  const bodies = makeBodies(n, 500, tag);
  const meter = cpuMeter({ currents: s.proc.pid });
  const ms = await produce(`${s.url}/v1/events`, KEY, bodies);
  lastCpu = meter();
  await s.stop();
  return n / (ms / 1000);
}

async function freshness(rate, seconds, tag) {
  const receiver = await startReceiver();
  const s = await startCurrents();
  await s.addCurrent(receiver.url);
  const n = Math.max(1, Math.round(rate * seconds));
  const perRequest = Math.max(1, Math.round(rate / 20));
  const bodies = makeBodies(n, perRequest, tag).map((b, i) => ({ ...b, first: i * perRequest }));
  const ackAt = new Map();
  await produce(`${s.url}/v1/events`, KEY, bodies, { connections: 2, ratePerSec: rate, onAck: (b, at) => ackAt.set(b.first, { at, count: b.count }) });
  await receiver.waitFor(n);
  const lat = [];
  for (const [first, { at, count }] of ackAt) for (let i = first; i < first + count; i++) lat.push(receiver.arrivals.get(`${tag}-${i}`) - at);
  lat.sort((a, b) => a - b);
  const batch = receiver.count / Math.max(1, receiver.requests);
  await s.stop();
  await receiver.close();
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1], batch };
}

async function backlog(n, tag) {
  const receiver = await startReceiver();
  const s = await startCurrents();
  const id = await s.addCurrent(receiver.url);
  await s.api("POST", `/api/v1/currents/${id}/pause`);
  await produce(`${s.url}/v1/events`, KEY, makeBodies(n, 500, tag));
  const rssBuilt = peakRssMb(s.proc.pid);
  const meter = cpuMeter({ currents: s.proc.pid });
  const t0 = performance.now();
  await s.api("POST", `/api/v1/currents/${id}/resume`);
  await receiver.waitFor(n);
  const rate = n / ((receiver.lastAt - t0) / 1000);
  lastCpu = meter();
  const rssPeak = peakRssMb(s.proc.pid);
  await s.stop();
  await receiver.close();
  return { rate, rssBuilt, rssPeak };
}

async function fanout(k, n, tag) {
  const receiver = await startReceiver();
  const s = await startCurrents();
  for (let i = 0; i < k; i++) await s.addCurrent(receiver.url);
  const bodies = makeBodies(n, 500, tag);
  const meter = cpuMeter({ currents: s.proc.pid });
  const t0 = performance.now();
  await produce(`${s.url}/v1/events`, KEY, bodies);
  while (receiver.count < k * n) await new Promise((r) => setTimeout(r, 20));
  const rate = n / ((receiver.lastAt - t0) / 1000);
  lastCpu = meter();
  await s.stop();
  await receiver.close();
  return rate;
}

/**
 * Server mode: `k` processes on one fresh PostgreSQL database, producers spread over them,
 * one Current. Ingest events/s (all acknowledged) and end to end (all delivered).
 */
async function serverMode(k, n, tag, jetstream = false) {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const name = `currents_bench_${tag.toLowerCase()}_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const stream = `bench_${process.pid}_${Date.now() % 1_000_000}`;
  const env = { DATABASE_URL: url.toString(), CURRENTS_MASTER_KEY: "cd".repeat(32), ...(jetstream ? { CURRENTS_NATS_URL: NATS_URL, CURRENTS_NATS_STREAM: stream } : {}) };
  const receiver = await startReceiver();
  const procs = [];
  for (let i = 0; i < k; i++) procs.push(await startCurrents(env));
  await procs[0].addCurrent(receiver.url);
  const bodies = makeBodies(n, 500, tag);
  const meter = cpuMeter(Object.fromEntries(procs.map((p, i) => [`currents ${i + 1}`, p.proc.pid])));
  const t0 = performance.now();
  const ms = await produce(procs.map((p) => `${p.url}/v1/events`), KEY, bodies, { connections: Math.max(4, k * 2) });
  const atIngestEnd = receiver.count;
  const ingestCpu = meter();
  await receiver.waitFor(n);
  const result = { ingest: n / (ms / 1000), e2e: n / ((receiver.lastAt - t0) / 1000) };
  lastCpu = meter();
  log(`    ingest done in ${Math.round(ms)} ms (${atIngestEnd} of ${n} delivered then; cores meanwhile: ${JSON.stringify(ingestCpu)}), last arrival at ${Math.round(receiver.lastAt - t0)} ms`);
  for (const p of procs) await p.stop();
  await receiver.close();
  if (jetstream) await deleteStream(stream);
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  return result;
}

/** graphile-worker on the same PostgreSQL, a database of its own: the server-mode peer. */
async function graphileThroughput(n, tag) {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  const name = `graphile_bench_${tag.toLowerCase()}_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const receiver = await startReceiver();
  const relay = await startRelay("graphile-relay.mjs", receiver.url, { RELAY_DATABASE_URL: url.toString() });
  const bodies = makeBodies(n, 500, tag);
  const meter = cpuMeter({ "graphile-worker": relay.proc.pid });
  const t0 = performance.now();
  await produce(`${relay.url}/v1/events`, KEY, bodies);
  await receiver.waitFor(n);
  const rate = n / ((receiver.lastAt - t0) / 1000);
  lastCpu = meter();
  await relay.stop();
  await receiver.close();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
  return rate;
}

/**
 * Steady state (SPEC section 9): a paused Current holds a large backlog; another Current
 * receives 10,000 events/s in requests of 100 while /metrics is scraped every second.
 * Reports ingest latency p99 and the event loop's p99 delay per 1-s scrape window (prom-client
 * resets its histogram at every scrape).
 */
async function steadyState(held, seconds, tag) {
  const receiver = await startReceiver();
  const s = await startCurrents();
  const paused = await s.addCurrent(receiver.url);
  await s.api("POST", `/api/v1/currents/${paused}/pause`);
  log(`  steady state: building a paused backlog of ${held.toLocaleString("en-US")} events...`);
  for (let done = 0; done < held; done += 250_000) { // in chunks: 5,000,000 bodies at once would not fit this process's heap
    await produce(`${s.url}/v1/events`, KEY, makeBodies(Math.min(250_000, held - done), 1000, `${tag}held${done}`), { connections: 4 });
  }
  await s.addCurrent(receiver.url);
  const lags = [];
  let scraping = true;
  const scraper = (async () => {
    while (scraping) {
      const text = await (await fetch(`${s.url}/metrics`)).text();
      const m = /^\w*nodejs_eventloop_lag_p99_seconds (\S+)$/m.exec(text);
      if (m) lags.push(Number(m[1]) * 1000);
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const latencies = [];
  const rate = 10_000;
  await produce(`${s.url}/v1/events`, KEY, makeBodies(rate * seconds, 100, `${tag}live`), { connections: 4, ratePerSec: rate, onAck: (_b, _at, ms) => latencies.push(ms) });
  scraping = false;
  await scraper;
  latencies.sort((a, b) => a - b);
  log(`  steady state: ${lags.length} scrapes`);
  const windows = lags.slice(2).sort((a, b) => a - b); // the first scrapes cover the backlog build
  await s.stop();
  await receiver.close();
  return { ingestP99: percentile(latencies, 99), lagP99Median: median(windows), lagP99Worst: windows[windows.length - 1] };
}

/**
 * Memory: RSS sampled every 100 ms while 200,000-delivery chunks flow past a warm-up. RSS swings
 * by 150-250 MB with garbage collection (a heap grown between major collections), so one reading
 * per chunk lands anywhere on that saw tooth: the figure is each chunk's trough, the RSS the
 * process falls back to once collected. Growth is the median of the last three troughs minus the
 * median of the first three; a leak raises every trough, a collection does not.
 */
async function memoryGrowth(n, tag) {
  const receiver = await startReceiver();
  const s = await startCurrents();
  await s.addCurrent(receiver.url);
  // Warm-up: past the tail cache's 100,000 events and the heap's growth to its working size. A
  // 6,000,000-delivery run after 600,000 showed the troughs still rising for 1,200,000 more
  // (420 to 470 MB), then no trend (3 MB per million over the rest; every 2,000,000 window
  // -27 to +10 MB): the warm-up is 1,800,000 deliveries, sent in chunks like the measured ones.
  const warm = 1_800_000;
  for (let done = 0; done < warm; done += 300_000) {
    await produce(`${s.url}/v1/events`, KEY, makeBodies(300_000, 500, `${tag}w${done}`));
    await receiver.waitFor(done + 300_000);
  }
  const troughs = [];
  const peaks = [];
  for (let done = 0; done < n; done += 200_000) {
    const chunk = Math.min(200_000, n - done);
    let low = Infinity;
    let high = 0;
    const sampler = setInterval(() => {
      const mb = rssMb(s.proc.pid);
      if (mb !== null) { low = Math.min(low, mb); high = Math.max(high, mb); }
    }, 100);
    await produce(`${s.url}/v1/events`, KEY, makeBodies(chunk, 500, `${tag}m${done}`));
    await receiver.waitFor(warm + done + chunk);
    clearInterval(sampler);
    troughs.push(low);
    peaks.push(high);
    log(`  memory: ${done + chunk} deliveries after warm-up, RSS trough ${Math.round(low)} MB, peak ${Math.round(high)} MB`);
  }
  await s.stop();
  await receiver.close();
  const before = median(troughs.slice(0, 3));
  const after = median(troughs.slice(-3));
  // Least-squares slope of the troughs, in MB per 1,000,000 deliveries: a leak is a steady slope.
  const xs = troughs.map((_, i) => i);
  const mx = (xs.length - 1) / 2;
  const my = troughs.reduce((a, b) => a + b, 0) / troughs.length;
  const slope = xs.reduce((a, x) => a + (x - mx) * (troughs[x] - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0) * 5;
  return { before, after, growth: after - before, slopePerMillion: slope, troughs: troughs.map(Math.round), peaks: peaks.map(Math.round) };
}

/**
 * Heap's server-side API at its limit: a backlog (one user each) sent to a fake Heap that answers
 * 429 above 15,000 events a minute per app (window shortened to HEAP_WINDOW_MS, on both sides).
 * The rate is what arrived in whole windows from the first arrival, scaled to a minute.
 */
async function heapAtLimit(n, tag) {
  const perWindow = Math.floor(15_000 * HEAP_WINDOW_MS / 60_000);
  const heap = new FakeHeap({ appIds: ["1234567890"], windowMs: HEAP_WINDOW_MS, appEventsPerWindow: perWindow, identityEventsPerWindow: Math.floor(1_000 * HEAP_WINDOW_MS / 60_000) });
  const heapUrl = await heap.start();
  const s = await startCurrents({ CURRENTS_RATE_WINDOW_MS: String(HEAP_WINDOW_MS) });
  const c = await s.api("POST", "/api/v1/currents", { name: "heap", partner: "heap_api", settings: { appId: "1234567890", baseUrl: heapUrl }, events: ["users.messages.email.Send"] });
  await s.api("POST", `/api/v1/currents/${c.id}/launch`);
  await produce(`${s.url}/v1/events`, KEY, makeBodies(n, 500, tag));
  while (heap.events.size < n) await new Promise((r) => setTimeout(r, 50));
  const at = [...heap.events.values()].map((e) => e.at).sort((a, b) => a - b);
  const first = at[0];
  const windows = Math.max(1, Math.floor((at[at.length - 1] - first) / HEAP_WINDOW_MS));
  const inWindows = at.filter((t) => t < first + windows * HEAP_WINDOW_MS).length;
  const perMinute = inWindows / (windows * HEAP_WINDOW_MS) * 60_000;
  // Over the whole drain: every event, over the time from the first arrival to the end of the last one's window.
  const sustained = n / (at[at.length - 1] - first + HEAP_WINDOW_MS) * 60_000;
  const result = { perMinute, sustained, percent: sustained / 15_000 * 100, answers429: heap.answers.get(429) ?? 0, repeats: heap.repeats };
  await s.stop();
  await heap.close();
  return result;
}

async function repeat(label, fn) {
  const values = [];
  for (let r = 0; r < RUNS; r++) {
    lastCpu = null;
    const v = await fn(`${label.replace(/\W+/g, "")}${r}`);
    values.push(v);
    if (lastCpu) cpuByScenario[label] = lastCpu;
    log(`  ${label} run ${r + 1}/${RUNS}: ${typeof v === "number" ? Math.round(v) : JSON.stringify(v)}`);
  }
  return values;
}

const stats = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const fmt = (x) => (x === null || x === undefined ? "-" : x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1));

const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "?", node: process.version, date: new Date().toISOString() };
log(`machine: ${machine.cpus} x ${machine.cpuModel}, Node ${machine.node}; events ${EVENTS}, backlog ${BACKLOG}, runs ${RUNS}`);
const rows = [];
// A scenario left out by BENCH_ONLY adds no row, and no ratio is computed against it.
const add = (name, unit, s, target, ratioTo) => {
  if (!Number.isNaN(s.median)) rows.push({ name, unit, ...s, target, ratio: ratioTo && !Number.isNaN(ratioTo) ? s.median / ratioTo : null });
};

const none = { median: NaN, min: NaN, max: NaN };
const relay = wanted("relay") ? stats(await repeat("pass-through relay", (t) => flowThroughput("relay", EVENTS, t))) : none;
add("pass-through relay (ceiling), events/s", "events/s", relay, "-");
const e2e = wanted("e2e") ? stats(await repeat("currents end to end", (t) => flowThroughput("currents", EVENTS, t))) : none;
add("Currents end to end, events/s", "events/s", e2e, ">= 0.85 x ceiling", relay.median);
const ordered = wanted("ordered") ? stats(await repeat("currents end to end, per-user order", (t) => flowThroughput("ordered", EVENTS, t))) : none;
add("Currents end to end with per-user order, events/s", "events/s", ordered, "-", relay.median);
if (!Number.isNaN(ordered.median) && !Number.isNaN(e2e.median)) log(`  per-user order costs ${((1 - ordered.median / e2e.median) * 100).toFixed(0)} % of end-to-end throughput`);
const bull = wanted("bullmq") ? stats(await repeat("bullmq", (t) => flowThroughput("bullmq", EVENTS, t))) : none;
add("BullMQ on Redis end to end, events/s", "events/s", bull, "-", relay.median);
if (wanted("ingest")) add("Currents durable ingest alone, events/s", "events/s", stats(await repeat("ingest alone", (t) => ingestAlone(EVENTS, t))), ">= 2.0 x ceiling", relay.median);
for (const [rate, secs, target] of wanted("fresh") ? [[10, 20, "p99 <= 50 ms"], [1000, 15, "p99 <= 50 ms"], [10000, 10, "p99 <= 50 ms"]] : []) {
  const f = await repeat(`freshness at ${rate}/s`, (t) => freshness(rate, secs, t));
  add(`freshness at ${rate} events/s: p50 ms`, "ms", stats(f.map((x) => x.p50)), "-");
  add(`freshness at ${rate} events/s: p99 ms`, "ms", stats(f.map((x) => x.p99)), target);
  add(`freshness at ${rate} events/s: max ms`, "ms", stats(f.map((x) => x.max)), "-");
  add(`freshness at ${rate} events/s: mean batch (events per request)`, "events", stats(f.map((x) => x.batch)), "-");
}
const b = wanted("backlog") ? await repeat("backlog", (t) => backlog(BACKLOG, t)) : [];
if (b.length) add(`backlog of ${BACKLOG.toLocaleString("en-US")}: drain events/s`, "events/s", stats(b.map((x) => x.rate)), ">= 2 x ceiling", relay.median);
if (b.length) add("backlog: peak RSS MB (build and drain)", "MB", stats(b.map((x) => x.rssPeak)), "<= 300");
for (const k of wanted("fanout") ? [1, 4, 16] : []) {
  add(`fan-out to ${k} Currents: events/s ingested and delivered to all`, "events/s",
    stats(await repeat(`fan-out ${k}`, (t) => fanout(k, Math.round(EVENTS / Math.max(1, k / 4)), t))), k === 16 ? ">= 0.3 x ceiling (each Current)" : "-", relay.median);
}

let serverOne = NaN;
for (const k of wanted("pg") ? [1, 2, 3] : []) {
  const r = await repeat(`server mode, ${k} process(es)`, (t) => serverMode(k, Math.round(EVENTS / 2), t));
  add(`server mode (PostgreSQL), ${k} process(es): ingest events/s`, "events/s", stats(r.map((x) => x.ingest)), "-", relay.median);
  add(`server mode (PostgreSQL), ${k} process(es): end to end events/s`, "events/s", stats(r.map((x) => x.e2e)), k === 1 ? ">= 0.5 x embedded end to end" : "-", relay.median);
  if (k === 1) serverOne = stats(r.map((x) => x.e2e)).median;
}
const graphile = wanted("graphile") ? stats(await repeat("graphile-worker", (t) => graphileThroughput(Math.round(EVENTS / 2), t))) : none;
add("graphile-worker on PostgreSQL end to end (the server-mode peer), events/s", "events/s", graphile, "-", relay.median);
for (const k of wanted("js") ? [1, 2, 3] : []) {
  const r = await repeat(`JetStream mode, ${k} process(es)`, (t) => serverMode(k, Math.round(EVENTS / 2), t, true));
  add(`JetStream mode, ${k} process(es): ingest events/s`, "events/s", stats(r.map((x) => x.ingest)), "-", relay.median);
  add(`JetStream mode, ${k} process(es): end to end events/s`, "events/s", stats(r.map((x) => x.e2e)), "-", relay.median);
}

if (wanted("steady")) {
  const r = await steadyState(STEADY_BACKLOG, 30, "steady");
  log(`  steady state: ${JSON.stringify(r)}`);
  const one = (v) => ({ median: v, min: v, max: v });
  add(`steady state (10,000 events/s, ${STEADY_BACKLOG.toLocaleString("en-US")} held by a paused Current, /metrics every 1 s): ingest p99 ms`, "ms", one(r.ingestP99), "<= 50");
  add("steady state: event-loop p99 delay ms, median 1-s window", "ms", one(r.lagP99Median), "<= 20");
  add("steady state: event-loop p99 delay ms, worst 1-s window", "ms", one(r.lagP99Worst), "-");
}
if (wanted("memory")) {
  const r = await memoryGrowth(MEMORY_EVENTS, "mem");
  log(`  memory: ${JSON.stringify(r)}`);
  const one = (v) => ({ median: v, min: v, max: v });
  add(`memory: RSS growth MB over ${MEMORY_EVENTS.toLocaleString("en-US")} deliveries after warm-up (troughs per 200,000 deliveries, sampled every 100 ms: median of the last 3 minus the first 3; from ${Math.round(r.before)} MB)`, "MB", one(r.growth), "<= 20");
  add("memory: RSS trend, MB per 1,000,000 deliveries (least-squares slope of the troughs)", "MB", one(r.slopePerMillion), "-");
  add("memory: highest RSS peak MB (between collections)", "MB", one(Math.max(...r.peaks)), "-");
}

if (wanted("heap")) {
  const r = await repeat("heap_api at its limit", (t) => heapAtLimit(HEAP_EVENTS, t));
  add(`Heap server-side API at its limit (15,000 events/min per app, ${HEAP_WINDOW_MS / 1000} s window): events/min sent in whole windows`, "events/min", stats(r.map((x) => x.perMinute)), "within 5 % of 15,000");
  add("Heap server-side API at its limit: events/min over the whole drain (to the end of the last window)", "events/min", stats(r.map((x) => x.sustained)), "-");
  add("Heap server-side API at its limit: whole drain, % of the limit", "%", stats(r.map((x) => x.percent)), ">= 95 and <= 100");
  add("Heap server-side API at its limit: 429 answers from Heap", "answers", stats(r.map((x) => x.answers429)), "0");
}

const ratioE2eBull = e2e.median / bull.median;
const lines = [
  `machine: ${machine.cpus} x ${machine.cpuModel}, Node ${machine.node}; ${RUNS} runs each (median, min, max)`,
  "",
  "| figure | median | min | max | ratio to ceiling | target |",
  "|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.name} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${r.ratio === null ? "-" : r.ratio.toFixed(2)} | ${r.target} |`),
  ...(Number.isNaN(ratioE2eBull) ? [] : ["", `Currents / BullMQ end to end: ${ratioE2eBull.toFixed(2)} (target >= 1.3)`]),
  ...(Number.isNaN(serverOne / graphile.median) ? [] : [`Currents server mode (1 process) / graphile-worker end to end: ${(serverOne / graphile.median).toFixed(2)} (target >= 2)`]),
  ...(Number.isNaN(serverOne / e2e.median) ? [] : [`Currents server mode (1 process) / embedded end to end: ${(serverOne / e2e.median).toFixed(2)} (target >= 0.5)`]),
];
// Where the two cores went in each scenario's last run: a part near its limit (a main thread near 1.0, the total near the core count) is what holds the figure back.
const cpuLines = Object.entries(cpuByScenario).map(([label, c]) => `- ${label}: ${Object.entries(c).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ")}`);
if (cpuLines.length) lines.push("", `CPU accounting, cores used while measured (last run of each; ${machine.cpus} cores; "bench" is the producer and the receiver):`, ...cpuLines);
console.log(lines.join("\n"));
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
// A full run is "latest"; a run of some scenarios (BENCH_ONLY) goes beside it, never over it.
const resultFile = join(ROOT, "bench/results", ONLY ? "partial.json" : "latest.json");
writeFileSync(resultFile, JSON.stringify({ machine, events: EVENTS, backlog: BACKLOG, runs: RUNS, only: ONLY ? [...ONLY] : null, rows, cpu: cpuByScenario,
  ratioCurrentsToBullmq: ratioE2eBull, ratioServerModeToGraphile: serverOne / graphile.median, ratioServerModeToEmbedded: serverOne / e2e.median }, null, 2));
if (process.argv.includes("--plot")) {
  const { plot } = await import("./plot.mjs");
  for (const f of await plot(resultFile)) log(`plotted ${f}`);
}
