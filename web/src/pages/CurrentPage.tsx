import { useCallback, useEffect, useState } from "react";
import { type Current, type PartnerInfo, api, count, displayStatus, formatAge, loadPartners, partnerTitle, relativeTime } from "../api";
import { Charts } from "./Charts";
import { VolumeByType } from "./VolumeByType";
import { DeadLetters } from "./DeadLetters";
import { EditCurrent } from "./EditCurrent";

interface Attempt { at: string; events: number; status: number | null; latencyMs: number; outcome: string; error: string | null }

/** A Current: status, counters, actions, recent attempts, dead letters, replay, history. */
export function CurrentPage({ id, readOnly }: { id: string; readOnly: boolean }) {
  const [current, setCurrent] = useState<Current>();
  const [attempts, setAttempts] = useState<Attempt[]>([]);
  const [history, setHistory] = useState<Array<{ at: string; kind: string; status: string | null; message: string }>>([]);
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const [editing, setEditing] = useState(false);
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [partners, setPartners] = useState<PartnerInfo[]>([]);
  useEffect(() => { void loadPartners().then(setPartners, () => undefined); }, []);
  const load = useCallback(async () => {
    try {
      const [c, a, h] = await Promise.all([
        api<Current>("GET", `/api/v1/currents/${id}`),
        api<{ attempts: Attempt[] }>("GET", `/api/v1/currents/${id}/attempts`),
        api<{ history: typeof history }>("GET", `/api/v1/currents/${id}/history`),
      ]);
      setCurrent(c); setAttempts(a.attempts.slice(0, 20)); setHistory(h.history.slice(0, 20));
    } catch (e) { setError((e as Error).message); }
  }, [id]);
  useEffect(() => {
    void load();
    const t = setInterval(() => void load(), 1500);
    return () => clearInterval(t);
  }, [load]);
  const act = async (what: string, fn: () => Promise<unknown>, done: (r: unknown) => string) => {
    setError(undefined); setMessage(`${what}…`);
    try { setMessage(done(await fn())); await load(); } catch (e) { setMessage(undefined); setError((e as Error).message); }
  };
  if (!current) return <p>{error ?? "Loading…"}</p>;
  const s = current.stats;
  const testNote = partners.find((p) => p.id === current.partner)?.testEventsNote;
  return (
    <section>
      <p><a href="#/">← Data Export</a></p>
      <div className="row">
        <h1>{current.name}</h1>
        <span className={`status ${displayStatus(current)}`} data-testid="status">{displayStatus(current)}</span>
      </div>
      {displayStatus(current) === "retrying" && (
        <div role="status" className="banner retrying">
          <span>Retrying: the partner did not take the last batch (details under Last error). Next attempt <time dateTime={s.retryingUntil ?? ""} title={new Date(s.retryingUntil ?? 0).toLocaleString()}>{relativeTime(s.retryingUntil)}</time>; events wait, none is lost.</span>
          {!readOnly && <button type="button" onClick={() => void act("Retrying now", () => api("POST", `/api/v1/currents/${id}/retry-now`), () => "Retrying now.")}>Retry now</button>}
        </div>
      )}
      {current.status === "failing" && <div role="alert" className="banner">This Current is failing: {current.statusReason}. Events are kept; fix the endpoint or token with Edit, or wait for the next automatic check.</div>}
      {current.status === "disabled" && <div role="alert" className="banner">This Current was disabled after failing for 5 days: {current.statusReason}. Resume it to deliver its backlog.</div>}
      <p>{partnerTitle(current.partner)} · {current.destination} · workspace {current.workspace}{current.ordering === "per_user" ? " · per-user order" : ""}</p>
      <dl className="stats">
        <div><dt>Delivered</dt><dd data-testid="delivered">{count(s.delivered)}</dd></div>
        <div><dt>Delivered (24 h)</dt><dd>{count(s.delivered24h)}</dd></div>
        <div><dt>Pending</dt><dd>{count(s.pending)}</dd></div>
        <div><dt>Oldest pending</dt><dd>{formatAge(s.oldestPendingAgeMs)}</dd></div>
        <div><dt>Failed attempts</dt><dd>{count(s.failedAttempts)}</dd></div>
        <div><dt>Dead letters</dt><dd>{count(s.deadLettered)}</dd></div>
        <div><dt>Expired</dt><dd>{count(s.expired)}</dd></div>
        {(current.partner === "heap_api" || s.heldByRateLimit > 0) && <div><dt>Held by rate limit (now)</dt><dd data-testid="held">{count(s.heldByRateLimit)}</dd></div>}
        {(current.partner === "heap_api" || s.valuesCut > 0) && <div><dt>Values cut to 1,024 characters</dt><dd>{count(s.valuesCut)}</dd></div>}
        <div><dt>Last delivered</dt><dd><time dateTime={s.lastDeliveredAt ?? ""} title={s.lastDeliveredAt ? new Date(s.lastDeliveredAt).toLocaleString() : undefined}>{relativeTime(s.lastDeliveredAt)}</time></dd></div>
      </dl>
      {s.lastError && <p data-testid="last-error"><strong>Last error</strong> (<time dateTime={s.lastErrorAt ?? ""} title={s.lastErrorAt ? new Date(s.lastErrorAt).toLocaleString() : undefined}>{relativeTime(s.lastErrorAt)}</time>): {s.lastError}</p>}
      {s.deadLettersByReason.length > 0 && (
        <div>
          <h2>Dead letters by reason</h2>
          <ul aria-label="Dead letters by reason">{s.deadLettersByReason.map((r) => <li key={r.reason}>{r.reason}: {r.count}</li>)}</ul>
        </div>
      )}
      {s.job && <p aria-live="polite">{s.job.kind}: {count(s.job.sent)} / {count(s.job.total)} sent ({s.job.state}{s.job.detail ? `: ${s.job.detail}` : ""})
        <progress max={Math.max(1, s.job.total)} value={s.job.sent} aria-label={`${s.job.kind} progress`} />
        {s.job.state === "running" && !readOnly && <button type="button" className="secondary" onClick={() => void act("Cancelling", () => api("POST", `/api/v1/currents/${id}/job/cancel`), () => `${s.job?.kind ?? "Job"} cancelled.`)}>Cancel {s.job.kind}</button>}</p>}
      {message && <p aria-live="polite" className="ok">{message}</p>}
      {error && <p role="alert" className="error">{error}</p>}
      {!readOnly && (
        <div className="row actions">
          <button type="button" onClick={() => void act("Sending test events", () => api("POST", `/api/v1/currents/${id}/test`),
            (r) => { const t = r as { ok: boolean; events: number; status: number | null; latencyMs: number; error?: string }; return t.ok ? `Sent ${t.events} test events: HTTP ${t.status} in ${Math.round(t.latencyMs)} ms.` : `Test events refused: ${t.error ?? `HTTP ${t.status}`}.`; })}>Send Test Events</button>
          {current.status === "draft" && <button type="button" onClick={() => void act("Launching", () => api("POST", `/api/v1/currents/${id}/launch`), () => "Launched.")}>Launch Current</button>}
          {(current.status === "active" || current.status === "failing") && <button type="button" className="secondary" onClick={() => void act("Pausing", () => api("POST", `/api/v1/currents/${id}/pause`), () => "Paused; events are kept.")}>Pause</button>}
          {["paused", "failing", "disabled"].includes(current.status) && <button type="button" onClick={() => void act("Resuming", () => api("POST", `/api/v1/currents/${id}/resume`), () => "Resumed.")}>Resume</button>}
          <button type="button" className="secondary" onClick={() => setEditing(!editing)}>Edit</button>
          <button type="button" className="danger" onClick={() => {
            if (confirm(`Delete the Current "${current.name}"? Its pending events will not be sent.`)) void api("DELETE", `/api/v1/currents/${id}`).then(() => { location.hash = "#/"; }, (e: Error) => setError(e.message));
          }}>Delete</button>
        </div>
      )}
      {testNote && !readOnly && <p className="help">{testNote}</p>}
      <Charts id={id} />
      <VolumeByType id={id} />
      {editing && <EditCurrent current={current} onDone={(msg) => { setEditing(false); setMessage(msg); void load(); }} />}
      <h2>Recent attempts</h2>
      <table>
        <thead><tr><th>Time</th><th>Events</th><th>Status</th><th>Latency</th><th>Outcome</th><th>Error</th></tr></thead>
        <tbody>{attempts.map((a, i) => <tr key={i}><td>{new Date(a.at).toLocaleTimeString()}</td><td>{a.events}</td><td>{a.status ?? "—"}</td><td>{Math.round(a.latencyMs)} ms</td><td>{a.outcome}</td><td>{a.error ?? ""}</td></tr>)}</tbody>
      </table>
      <DeadLetters id={id} readOnly={readOnly} onChange={() => void load()} />
      {!readOnly && (
        <form className="row" onSubmit={(e) => { e.preventDefault(); void act("Starting the replay", () => api("POST", `/api/v1/currents/${id}/replay`, { from: new Date(from).toISOString(), ...(to ? { to: new Date(to).toISOString() } : {}) }), () => "Replay started."); }}>
          <h2>Replay</h2>
          <label>From <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} required /></label>
          <label>To <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} /></label>
          <button type="submit">Replay</button>
        </form>
      )}
      <h2>History</h2>
      <ul>{history.map((h, i) => <li key={i}>{new Date(h.at).toLocaleString()}: {h.kind === "notice" ? "notice" : "status"} {h.status}: {h.message}</li>)}</ul>
    </section>
  );
}
