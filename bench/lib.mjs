// Shared pieces of the benchmark: event bodies, producers, a receiver, process helpers.
import { spawn } from "node:child_process";
import http from "node:http";
import { readFileSync, readdirSync } from "node:fs";

export const TYPE = "users.messages.email.Send";

/** A ~700-byte email-send event like a real one. */
export function makeEvent(i, tag) {
  return {
    event_type: TYPE,
    id: `${tag}-${i}`,
    time: 1732790000 + (i % 86400),
    user: { user_id: `user-${i % 50000}`, external_user_id: `ext-${i % 50000}`, device_id: "dev-6f1c2b7e-4d7a-4a8e-9a5e-0123456789ab", timezone: "America/Chicago" },
    properties: {
      campaign_id: "cmp-2f6b5c1e-8a7d-4c3b-9e2f-0123456789ab", campaign_name: "Black Friday Weekend Sale 2026",
      message_variation_id: "var-7d2e4f1a-3b5c-4d6e-8f9a-0123456789ab", email_address: `customer${i % 50000}@example.com`,
      dispatch_id: "dsp-5e8f2a1b-6c4d-4e7f-9a8b-0123456789ab", canvas_id: "cnv-3a1b2c4d-5e6f-4a7b-8c9d-0123456789ab",
      canvas_name: "Holiday onboarding flow", canvas_step_id: "stp-1a2b3c4d-5e6f-4a7b-8c9d-0123456789ab",
      send_id: "snd-9f8e7d6c-5b4a-4c3d-2e1f-0123456789ab", ip_pool: "pool-a", app_group_id: "ag-0123456789abcdef", from_domain: "mail.example.com",
    },
  };
}

/** Pre-serialised request bodies of `batch` events each, `total` in all. */
export function makeBodies(total, batch, tag) {
  const bodies = [];
  for (let b = 0; b * batch < total; b++) {
    const n = Math.min(batch, total - b * batch);
    bodies.push({ count: n, ids: null, text: JSON.stringify({ events: Array.from({ length: n }, (_, k) => makeEvent(b * batch + k, tag)) }) });
  }
  return bodies;
}

/**
 * Posts bodies over `connections` keep-alive connections as fast as answers come back; or at
 * `ratePerSec`. `url` may be a list: connection i posts to url[i % length].
 */
export async function produce(url, key, bodies, { connections = Number(process.env.BENCH_CONNECTIONS ?? 4), ratePerSec, onAck } = {}) {
  const urls = Array.isArray(url) ? url : [url];
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const post = (body, url) => new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", agent, headers: { authorization: `Bearer ${key}`, "content-type": "application/json" } }, (res) => {
      let t = "";
      res.on("data", (c) => (t += c));
      res.on("end", () => (res.statusCode === 200 ? resolve(t) : reject(new Error(`HTTP ${res.statusCode}: ${t.slice(0, 200)}`))));
    });
    req.on("error", reject);
    req.end(body.text);
  });
  const started = performance.now();
  let next = 0;
  let sent = 0;
  await Promise.all(Array.from({ length: connections }, async (_, c) => {
    while (next < bodies.length) {
      const body = bodies[next++];
      if (ratePerSec) {
        const due = started + (sent / ratePerSec) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      sent += body.count;
      const t = performance.now();
      await post(body, urls[c % urls.length]);
      onAck?.(body, performance.now(), performance.now() - t);
    }
  }));
  agent.destroy();
  return performance.now() - started;
}

/** The local receiver: counts events, records each id's arrival time (for freshness). */
export function startReceiver(port = 0) {
  const arrivals = new Map();
  let count = 0;
  let requests = 0;
  let lastAt = 0;
  let waiters = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const now = performance.now();
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      for (const e of body.events) { if (!arrivals.has(e.id)) arrivals.set(e.id, now); }
      count += body.events.length;
      if (body.events.length > 0) requests++;
      lastAt = now;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      waiters = waiters.filter((w) => (arrivals.size >= w.n ? (w.resolve(), false) : true));
    });
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve({
    url: `http://127.0.0.1:${server.address().port}/hook`,
    arrivals,
    get count() { return count; },
    /** Requests that carried events (connection checks left out): count / requests is the mean batch size. */
    get requests() { return requests; },
    get lastAt() { return lastAt; },
    reset() { arrivals.clear(); count = 0; requests = 0; lastAt = 0; },
    waitFor(n, timeoutMs = 600_000) {
      if (arrivals.size >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`receiver got ${arrivals.size} of ${n} events`)), timeoutMs);
        waiters.push({ n, resolve: () => { clearTimeout(t); resolve(); } });
      });
    },
    close() { server.closeAllConnections(); return new Promise((r) => server.close(r)); },
  })));
}

/** Starts a node process running `args` and waits for `ready` in its output. */
export function startProcess(args, env, ready) {
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`did not start:\n${out}`)), 20_000);
    const on = (c) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) { clearTimeout(timer); resolve({ proc, match: m, output: () => out }); }
    };
    proc.stdout.on("data", on);
    proc.stderr.on("data", on);
    proc.on("exit", (code) => { clearTimeout(timer); reject(new Error(`exited ${code}:\n${out}`)); });
  });
}

export async function stopProcess(proc) {
  if (proc.exitCode !== null) return;
  proc.kill("SIGTERM");
  await new Promise((r) => { proc.once("exit", r); setTimeout(() => { proc.kill("SIGKILL"); r(); }, 10_000); });
}

/** Resident memory of a process now (VmRSS), in MB. */
export function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch { return null; }
}

/** Peak resident memory of a process so far (VmHWM), in MB. */
export function peakRssMb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch { return null; }
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** How the peers' relays post a batch to the receiver: JSON over a keep-alive agent, a 200 or an error. */
export function batchPoster(targetUrl) {
  const target = new URL(targetUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  return (events) => new Promise((resolve, reject) => {
    const req = http.request(target, { method: "POST", agent, headers: { "content-type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(JSON.stringify({ events }));
  });
}

const TICK_S = 0.01; // /proc counts CPU time in clock ticks of 1/100 s (getconf CLK_TCK)

/** CPU seconds a thread (or process) has used so far: utime + stime of /proc/<path>/stat. */
function statCpu(path) {
  try {
    const text = readFileSync(`/proc/${path}/stat`, "utf8");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" "); // fields from the third on (state)
    return (Number(f[11]) + Number(f[12])) * TICK_S;
  } catch { return 0; }
}

/** Seconds a thread was runnable but waiting for a CPU (second field of /proc/<path>/schedstat). */
function runQueueWait(path) {
  try { return Number(readFileSync(`/proc/${path}/schedstat`, "utf8").split(" ")[1]) / 1e9; } catch { return 0; }
}

/** CPU seconds of a process: its main thread, each other thread (workers, GC helpers, libuv), all together; and each thread's wait for a CPU. */
function processCpu(pid) {
  const threads = {};
  const waits = {};
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      threads[tid] = statCpu(`${pid}/task/${tid}`);
      waits[tid] = runQueueWait(`${pid}/task/${tid}`);
    }
  } catch { /* gone */ }
  return { main: threads[pid] ?? 0, threads, waits, all: statCpu(String(pid)) };
}

/** CPU seconds of every process whose name is one of `names` (the database and broker servers). */
function serverCpu(names) {
  const out = Object.fromEntries(names.map((n) => [n, 0]));
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    let comm;
    try { comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim(); } catch { continue; }
    if (comm in out) out[comm] += statCpu(pid);
  }
  return out;
}

const SERVERS = ["postgres", "redis-server", "nats-server"];

/** The machine's idle and I/O-wait CPU seconds so far (first line of /proc/stat). */
function machineIdle() {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] * TICK_S, iowait: f[4] * TICK_S };
}

/**
 * CPU accounting of one measured stretch: cores used (CPU seconds / wall seconds) by the bench
 * itself (producer and receiver), by each named child process (main thread and other threads)
 * and by the database/broker servers. On 2 cores the parts add up to at most 2.
 */
export function cpuMeter(children) {
  const t0 = performance.now();
  const bench0 = process.cpuUsage();
  const kids0 = Object.fromEntries(Object.entries(children).map(([k, pid]) => [k, processCpu(pid)]));
  const servers0 = serverCpu(SERVERS);
  const idle0 = machineIdle();
  return () => {
    const wall = (performance.now() - t0) / 1000;
    const b = process.cpuUsage(bench0);
    const cores = { bench: (b.user + b.system) / 1e6 / wall };
    for (const [k, pid] of Object.entries(children)) {
      const now = processCpu(pid);
      cores[`${k} main`] = (now.main - kids0[k].main) / wall;
      // The busiest thread besides the main one (the embedded store's writer, when there is one), then the rest.
      const others = Object.entries(now.threads).filter(([tid]) => tid !== String(pid)).map(([tid, s]) => ({ tid, used: s - (kids0[k].threads[tid] ?? 0) }));
      const top = others.reduce((a, b) => (b.used > a.used ? b : a), { tid: "", used: 0 });
      const busiest = top.used;
      cores[`${k} busiest other thread`] = busiest / wall;
      // Runnable but not running: time the thread waited for one of the cores (the machine's cores were all taken).
      cores[`${k} main waiting for a CPU`] = ((now.waits[pid] ?? 0) - (kids0[k].waits[pid] ?? 0)) / wall;
      if (top.tid) cores[`${k} busiest other thread waiting for a CPU`] = ((now.waits[top.tid] ?? 0) - (kids0[k].waits[top.tid] ?? 0)) / wall;
      cores[`${k} other threads`] = (now.all - now.main - (kids0[k].all - kids0[k].main) - busiest) / wall;
    }
    const servers = serverCpu(SERVERS);
    for (const s of SERVERS) if (servers[s] - servers0[s] > 0.01 * wall) cores[s] = (servers[s] - servers0[s]) / wall;
    cores.total = Object.entries(cores).filter(([k]) => !k.includes("waiting")).reduce((a, [, x]) => a + x, 0);
    const idle = machineIdle();
    cores["machine idle"] = (idle.idle - idle0.idle) / wall;
    cores["of which waiting for I/O"] = (idle.iowait - idle0.iowait) / wall;
    for (const k of Object.keys(cores)) cores[k] = Math.round(cores[k] * 100) / 100;
    return cores;
  };
}
