import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, count, dateTime, relativeTime } from "../api";

type Kind = "oldest_pending" | "error_rate" | "dead_letters";
interface Rules { oldestPendingMinutes: number | null; errorRatePercent: number | null; deadLetters: number | null }
interface View { rules: Rules; custom: boolean; defaults: Rules; alerts: Array<{ kind: Kind; threshold: number | null; value: number | null; firing: boolean; since: string | null }> }

const RULE: Record<Kind, keyof Rules> = { oldest_pending: "oldestPendingMinutes", error_rate: "errorRatePercent", dead_letters: "deadLetters" };
const MAX: Record<Kind, number> = { oldest_pending: 10_080, error_rate: 100, dead_letters: 10_000_000 };

/** A Current's alerts: each threshold, its last value and whether it fires; editable (empty = off). */
export function AlertsPanel({ id, readOnly }: { id: string; readOnly: boolean }) {
  const { t } = useTranslation();
  const [view, setView] = useState<View>();
  const [editing, setEditing] = useState(false);
  const [values, setValues] = useState<Record<Kind, string>>({ oldest_pending: "", error_rate: "", dead_letters: "" });
  const [errors, setErrors] = useState<Partial<Record<Kind, string>>>({});
  const [message, setMessage] = useState<string>();
  const load = useCallback(async () => { setView(await api<View>("GET", `/api/v1/currents/${id}/alerts`)); }, [id]);
  useEffect(() => {
    void load().catch(() => undefined);
    const timer = setInterval(() => void load().catch(() => undefined), 5000);
    return () => clearInterval(timer);
  }, [load]);
  if (!view) return null;
  const unit = (k: Kind, v: number | null) => (v === null ? "—" : t(`alerts.units.${k}`, { value: count(v) }));
  const start = () => {
    setValues(Object.fromEntries((Object.keys(RULE) as Kind[]).map((k) => [k, view.rules[RULE[k]] === null ? "" : String(view.rules[RULE[k]])])) as Record<Kind, string>);
    setErrors({}); setEditing(true);
  };
  const save = async (e: FormEvent) => {
    e.preventDefault();
    const problems: Partial<Record<Kind, string>> = {};
    const body: Record<string, number | null> = {};
    for (const k of Object.keys(RULE) as Kind[]) {
      const raw = values[k].trim();
      const n = Number(raw);
      if (raw === "") body[RULE[k]] = null;
      else if (!/^[0-9]+$/.test(raw) || n < 1 || n > MAX[k]) problems[k] = t("alerts.range", { max: count(MAX[k]) });
      else body[RULE[k]] = n;
    }
    setErrors(problems);
    if (Object.keys(problems).length > 0) return;
    try { setView(await api<View>("PUT", `/api/v1/currents/${id}/alerts`, body)); setEditing(false); setMessage(t("alerts.saved")); } catch (err) { setMessage((err as Error).message); }
  };
  return (
    <section className="card alerts" aria-labelledby="alerts-title">
      <h2 id="alerts-title">{t("alerts.title")}</h2>
      <p className="help">{t("alerts.intro")}</p>
      {!editing ? (
        <ul className="alert-list">
          {view.alerts.map((a) => (
            <li key={a.kind} data-testid={`alert-${a.kind}`} data-firing={a.firing} className={a.firing ? "firing" : ""}>
              <strong>{t(`alerts.kinds.${a.kind}`)}</strong>{" "}
              {a.threshold === null ? <span className="muted">{t("alerts.off")}</span> : <>
                <span>{t("alerts.threshold", { value: unit(a.kind, a.threshold) })}</span>{" · "}
                <span>{t("alerts.now", { value: unit(a.kind, a.value) })}</span>{" · "}
                <span className={`status ${a.firing ? "failing" : "active"}`}>{a.firing ? t("alerts.firing") : t("alerts.ok")}</span>
                {a.firing && a.since && <> {t("alerts.since")} <time dateTime={a.since} title={dateTime(a.since)}>{relativeTime(a.since)}</time></>}
              </>}
            </li>))}
        </ul>
      ) : (
        <form onSubmit={save} noValidate>
          {(Object.keys(RULE) as Kind[]).map((k) => (
            <div key={k} className="setting">
              <label htmlFor={`alert-${k}`}>{t(`alerts.fields.${k}`)}</label>
              <input id={`alert-${k}`} inputMode="numeric" value={values[k]} placeholder={t("alerts.offPlaceholder")} aria-invalid={errors[k] ? true : undefined} aria-describedby={errors[k] ? `alert-${k}-error` : undefined}
                onChange={(e) => setValues({ ...values, [k]: e.target.value })} />
              {errors[k] && <p id={`alert-${k}-error`} role="alert" className="error">{errors[k]}</p>}
            </div>))}
          <div className="row">
            <button type="submit">{t("alerts.save")}</button>
            <button type="button" className="secondary" onClick={() => setEditing(false)}>{t("alerts.cancel")}</button>
          </div>
        </form>
      )}
      {!readOnly && !editing && (
        <div className="row">
          <button type="button" className="secondary" onClick={start}>{t("alerts.edit")}</button>
          {view.custom && <button type="button" className="link" onClick={() => void api<View>("DELETE", `/api/v1/currents/${id}/alerts`).then(setView)}>{t("alerts.reset")}</button>}
        </div>
      )}
      {message && <p aria-live="polite" className="ok">{message}</p>}
    </section>
  );
}
