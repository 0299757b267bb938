import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import i18n from "../i18n";
import { type Current, type PartnerInfo, api, count, dateTime, displayStatus, formatAge, loadPartners, partnerTitle, relativeTime } from "../api";
import { Charts } from "./Charts";
import { VolumeByType } from "./VolumeByType";
import { RecentAttempts } from "./RecentAttempts";
import { AlertsPanel } from "./AlertsPanel";
import { DeadLetters } from "./DeadLetters";
import { EditCurrent } from "./EditCurrent";

/** A status change reads "draft -> active" in the store: the states in the reader's words; other messages are the server's. */
function historyMessage(message: string): string {
  const m = /^(\w+) -> (\w+)(.*)$/s.exec(message);
  return m ? `${i18n.t(`status.${m[1]}`, { defaultValue: m[1] })} → ${i18n.t(`status.${m[2]}`, { defaultValue: m[2] })}${m[3]}` : message;
}

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
          <h2>{t("current.byReason")}</h2>
          <ul aria-label={t("current.byReason")}>{s.deadLettersByReason.map((r) => <li key={r.reason}>{r.reason}: {r.count}</li>)}</ul>
        </div>
      )}
      {s.job && <p aria-live="polite">{t("current.job", { kind: t(`current.jobKinds.${s.job.kind}`, { defaultValue: s.job.kind }), sent: count(s.job.sent), total: count(s.job.total), state: t(`current.jobStates.${s.job.state}`, { defaultValue: s.job.state }) })}{s.job.detail ? `: ${s.job.detail}` : ""}
        <progress max={Math.max(1, s.job.total)} value={s.job.sent} aria-label={t("current.jobProgress", { kind: t(`current.jobKinds.${s.job.kind}`, { defaultValue: s.job.kind }) })} />
        {s.job.state === "running" && !readOnly && <button type="button" className="secondary" onClick={() => void act(t("current.cancelling"), () => api("POST", `/api/v1/currents/${id}/job/cancel`), () => t("current.cancelled"))}>{t("current.cancelJob", { kind: t(`current.jobKinds.${s.job.kind}`, { defaultValue: s.job.kind }) })}</button>}</p>}
      {message && <p aria-live="polite" className="ok">{message}</p>}
      {error && <p role="alert" className="error">{error}</p>}
      {!readOnly && (
        <div className="row actions">
          <button type="button" onClick={() => void act(t("current.sendingTest"), () => api("POST", `/api/v1/currents/${id}/test`),
            (r) => { const x = r as { ok: boolean; events: number; status: number | null; latencyMs: number; error?: string }; return x.ok ? t("current.testSent", { count: x.events, status: x.status, ms: Math.round(x.latencyMs) }) : t("current.testRefused", { why: x.error ?? `HTTP ${x.status}` }); })}>{t("current.sendTest")}</button>
          {current.status === "draft" && <button type="button" onClick={() => void act(t("current.launching"), () => api("POST", `/api/v1/currents/${id}/launch`), () => t("current.launched"))}>{t("current.launch")}</button>}
          {(current.status === "active" || current.status === "failing") && <button type="button" className="secondary" onClick={() => void act(t("current.pausing"), () => api("POST", `/api/v1/currents/${id}/pause`), () => t("current.paused"))}>{t("current.pause")}</button>}
          {["paused", "failing", "disabled"].includes(current.status) && <button type="button" onClick={() => void act(t("current.resuming"), () => api("POST", `/api/v1/currents/${id}/resume`), () => t("current.resumed"))}>{t("current.resume")}</button>}
          <button type="button" className="secondary" aria-expanded={editing} onClick={() => setEditing(!editing)}>{t("current.edit")}</button>
          <button type="button" className="danger" onClick={() => {
            if (confirm(t("current.confirmDelete", { name: current.name }))) void api("DELETE", `/api/v1/currents/${id}`).then(() => { location.hash = "#/"; }, (e: Error) => setError(e.message));
          }}>{t("current.delete")}</button>
        </div>
      )}
      {testNote && !readOnly && <p className="help">{testNote}</p>}
      {editing && <EditCurrent current={current} onDone={(msg) => { setEditing(false); if (msg) setMessage(msg); void load(); }} />}
      {current.status === "draft" ? <p className="muted" data-testid="draft-note">{t("current.draftNote")}</p> : <>
        <Charts id={id} />
        <VolumeByType id={id} />
      </>}
      {current.status !== "draft" && <AlertsPanel id={id} readOnly={readOnly} />}
      <RecentAttempts id={id} draft={current.status === "draft"} />
      {current.status !== "draft" && <DeadLetters id={id} readOnly={readOnly} onChange={() => void load()} />}
      {!readOnly && current.status !== "draft" && (
        <form className="replay" onSubmit={(e) => { e.preventDefault(); void act(t("current.replaying"), () => api("POST", `/api/v1/currents/${id}/replay`, { from: new Date(from).toISOString(), ...(to ? { to: new Date(to).toISOString() } : {}) }), () => t("current.replayStarted")); }}>
          <h2>{t("current.replay")}</h2>
          <p className="help">{t("current.replayHelp", { zone: Intl.DateTimeFormat().resolvedOptions().timeZone })}</p>
          <div className="row">
            <label>{t("current.from")} <input type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} required /></label>
            <label>{t("current.to")} <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} /></label>
            <button type="submit">{t("current.replay")}</button>
          </div>
        </form>
      )}
      <h2>{t("current.history")}</h2>
      {history.length === 0 ? <p className="muted">{t("current.historyEmpty")}</p> : (
        <ul>{history.map((h, i) => <li key={i}><time dateTime={h.at} title={dateTime(h.at)}>{dateTime(h.at)}</time>: {t(`current.historyKinds.${h.kind}`, { defaultValue: h.kind })} <strong>{h.kind === "status" ? t(`status.${h.status}`, { defaultValue: h.status }) : t(`current.noticeKinds.${h.status}`, { defaultValue: h.status })}</strong>: {historyMessage(h.message)}</li>)}</ul>
      )}
    </section>
  );
}
