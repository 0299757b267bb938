import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { type Current, type PartnerInfo, api, count, dateTime, displayStatus, formatAge, loadPartners, partnerTitle, relativeTime } from "../api";
import { Charts } from "./Charts";
import { VolumeByType } from "./VolumeByType";
import { RecentAttempts } from "./RecentAttempts";
import { AlertsPanel } from "./AlertsPanel";
import { DeadLetters } from "./DeadLetters";
import { EditCurrent } from "./EditCurrent";

/** A Current: status, counters, actions, recent attempts, dead letters, replay, history. */
export function CurrentPage({ id, readOnly }: { id: string; readOnly: boolean }) {
  const { t } = useTranslation();
  const [current, setCurrent] = useState<Current>();
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
      const [c, h] = await Promise.all([
        api<Current>("GET", `/api/v1/currents/${id}`),
        api<{ history: typeof history }>("GET", `/api/v1/currents/${id}/history`),
      ]);
      setCurrent(c); setHistory(h.history.slice(0, 20));
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
  if (!current) return <p>{error ?? t("common.loading")}</p>;
  const s = current.stats;
  const testNote = partners.find((p) => p.id === current.partner)?.testEventsNote;
  return (
    <section>
      <p><a href="#/">{t("current.back")}</a></p>
      <div className="row">
        <h1>{current.name}</h1>
        <span className={`status ${displayStatus(current)}`} data-testid="status" data-status={displayStatus(current)}>{t(`status.${displayStatus(current)}`)}</span>
      </div>
      {displayStatus(current) === "retrying" && (
        <div role="status" className="banner retrying">
          <span>{t("current.retrying", { when: relativeTime(s.retryingUntil) })}</span>
          {!readOnly && <button type="button" onClick={() => void act(t("current.retryNow"), () => api("POST", `/api/v1/currents/${id}/retry-now`), () => `${t("current.retryNow")}.`)}>{t("current.retryNow")}</button>}
        </div>
      )}
      {current.status === "failing" && <div role="alert" className="banner">{t("current.failing", { reason: current.statusReason })}</div>}
      {current.status === "disabled" && <div role="alert" className="banner">{t("current.disabled", { reason: current.statusReason })}</div>}
      <p>{partnerTitle(current.partner)} · {current.destination} · {t("current.workspace", { workspace: current.workspace })}{current.ordering === "per_user" ? ` · ${t("current.perUser")}` : ""}</p>
      <dl className="stats">
        <div><dt>{t("current.delivered")}</dt><dd data-testid="delivered">{count(s.delivered)}</dd></div>
        <div><dt>{t("current.delivered24h")}</dt><dd>{count(s.delivered24h)}</dd></div>
        <div><dt>{t("current.pending")}</dt><dd>{count(s.pending)}</dd></div>
        <div><dt>{t("current.oldestPending")}</dt><dd>{formatAge(s.oldestPendingAgeMs)}</dd></div>
        <div><dt>{t("current.failedAttempts")}</dt><dd>{count(s.failedAttempts)}</dd></div>
        <div><dt>{t("current.deadLetters")}</dt><dd>{count(s.deadLettered)}</dd></div>
        <div><dt>{t("current.expired")}</dt><dd>{count(s.expired)}</dd></div>
        {(current.partner === "heap_api" || s.heldByRateLimit > 0) && <div><dt>{t("current.held")}</dt><dd data-testid="held">{count(s.heldByRateLimit)}</dd></div>}
        {(current.partner === "heap_api" || s.valuesCut > 0) && <div><dt>{t("current.valuesCut")}</dt><dd>{count(s.valuesCut)}</dd></div>}
        <div><dt>{t("current.lastDelivered")}</dt><dd><time dateTime={s.lastDeliveredAt ?? ""} title={s.lastDeliveredAt ? dateTime(s.lastDeliveredAt) : undefined}>{relativeTime(s.lastDeliveredAt)}</time></dd></div>
      </dl>
      {s.lastError && <p data-testid="last-error"><strong>{t("current.lastError")}</strong> (<time dateTime={s.lastErrorAt ?? ""} title={s.lastErrorAt ? dateTime(s.lastErrorAt) : undefined}>{relativeTime(s.lastErrorAt)}</time>): {s.lastError}</p>}
      {s.deadLettersByReason.length > 0 && (
        <div>
          <h2>Dead letters by reason</h2>
          <ul aria-label="Dead letters by reason">{s.deadLettersByReason.map((r) => <li key={r.reason}>{r.reason}: {r.count}</li>)}</ul>
        </div>
      )}
      {s.job && <p aria-live="polite">{s.job.kind}: {count(s.job.sent)} / {count(s.job.total)} sent ({s.job.state}{s.job.detail ? `: ${s.job.detail}` : ""})
        <progress max={Math.max(1, s.job.total)} value={s.job.sent} aria-label={`${s.job.kind} progress`} />
        {s.job.state === "running" && !readOnly && <button type="button" className="secondary" onClick={() => void act("Cancelling", () => api("POST", `/api/v1/currents/${id}/job/cancel`), () => `${s.job?.kind ?? "Job"} cancelled.`)}>{t("current.cancelJob", { kind: s.job.kind })}</button>}</p>}
      {message && <p aria-live="polite" className="ok">{message}</p>}
      {error && <p role="alert" className="error">{error}</p>}
      {!readOnly && (
        <div className="row actions">
          <button type="button" onClick={() => void act("Sending test events", () => api("POST", `/api/v1/currents/${id}/test`),
            (r) => { const t = r as { ok: boolean; events: number; status: number | null; latencyMs: number; error?: string }; return t.ok ? `Sent ${t.events} test events: HTTP ${t.status} in ${Math.round(t.latencyMs)} ms.` : `Test events refused: ${t.error ?? `HTTP ${t.status}`}.`; })}>{t("current.sendTest")}</button>
          {current.status === "draft" && <button type="button" onClick={() => void act("Launching", () => api("POST", `/api/v1/currents/${id}/launch`), () => "Launched.")}>{t("current.launch")}</button>}
          {(current.status === "active" || current.status === "failing") && <button type="button" className="secondary" onClick={() => void act("Pausing", () => api("POST", `/api/v1/currents/${id}/pause`), () => "Paused; events are kept.")}>{t("current.pause")}</button>}
          {["paused", "failing", "disabled"].includes(current.status) && <button type="button" onClick={() => void act("Resuming", () => api("POST", `/api/v1/currents/${id}/resume`), () => "Resumed.")}>{t("current.resume")}</button>}
          <button type="button" className="secondary" onClick={() => setEditing(!editing)}>{t("current.edit")}</button>
          <button type="button" className="danger" onClick={() => {
            if (confirm(`Delete the Current "${current.name}"? Its pending events will not be sent.`)) void api("DELETE", `/api/v1/currents/${id}`).then(() => { location.hash = "#/"; }, (e: Error) => setError(e.message));
          }}>{t("current.delete")}</button>
        </div>
      )}
      {testNote && !readOnly && <p className="help">{testNote}</p>}
      <Charts id={id} />
      <VolumeByType id={id} />
      {editing && <EditCurrent current={current} onDone={(msg) => { setEditing(false); setMessage(msg); void load(); }} />}
      {current.status !== "draft" && <AlertsPanel id={id} readOnly={readOnly} />}
      <RecentAttempts id={id} draft={current.status === "draft"} />
      <DeadLetters id={id} readOnly={readOnly} onChange={() => void load()} />
      {!readOnly && (
        <form className="row" onSubmit={(e) => { e.preventDefault(); void act("Starting the replay", () => api("POST", `/api/v1/currents/${id}/replay`, { from: new Date(from).toISOString(), ...(to ? { to: new Date(to).toISOString() } : {}) }), () => "Replay started."); }}>
          <h2>{t("current.replay")}</h2>
          <label>{t("current.from")} <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} required /></label>
          <label>{t("current.to")} <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} /></label>
          <button type="submit">{t("current.replay")}</button>
        </form>
      )}
      <h2>{t("current.history")}</h2>
      <ul>{history.map((h, i) => <li key={i}>{dateTime(h.at)}: {h.kind === "notice" ? "notice" : "status"} {h.status}: {h.message}</li>)}</ul>
    </section>
  );
}
