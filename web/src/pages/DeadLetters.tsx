import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, dateTime } from "../api";

interface Letter { id: number; event: { id?: string; event_type?: string }; reason: string; status: number | null; excerpt: string; at: string }

export function DeadLetters({ id, readOnly, onChange }: { id: string; readOnly: boolean; onChange: () => void }) {
  const { t } = useTranslation();
  const [letters, setLetters] = useState<Letter[]>([]);
  const [total, setTotal] = useState(0);
  const [chosen, setChosen] = useState<Set<number>>(new Set());
  const [error, setError] = useState<string>();
  const load = () => api<{ total: number; deadLetters: Letter[] }>("GET", `/api/v1/currents/${id}/dead-letters?limit=100`).then((r) => { setLetters(r.deadLetters); setTotal(r.total); }, (e: Error) => setError(e.message));
  useEffect(() => { void load(); const timer = setInterval(() => void load(), 3000); return () => clearInterval(timer); }, [id]);
  const run = async (path: string, body: unknown) => {
    try { await api("POST", `/api/v1/currents/${id}/dead-letters/${path}`, body); setChosen(new Set()); await load(); onChange(); } catch (e) { setError((e as Error).message); }
  };
  return (
    <>
      <h2>{t("dead.title", { count: total })}</h2>
      {error && <p role="alert" className="error">{error}</p>}
      {letters.length > 0 && !readOnly && (
        <div className="row">
          <button type="button" onClick={() => void run("redrive", {})}>{t("dead.redriveAll")}</button>
          <button type="button" disabled={chosen.size === 0} onClick={() => void run("redrive", { ids: [...chosen] })}>{t("dead.redriveSelected")}</button>
          <button type="button" className="danger" disabled={chosen.size === 0} onClick={() => { if (confirm(t("dead.confirmDiscard", { count: chosen.size }))) void run("discard", { ids: [...chosen] }); }}>{t("dead.discardSelected")}</button>
        </div>
      )}
      {letters.length > 0 && (
        <table>
          <thead><tr><th><span className="sr-only">{t("dead.select")}</span></th><th>{t("dead.event")}</th><th>{t("dead.reason")}</th><th>{t("dead.answer")}</th><th>{t("dead.time")}</th></tr></thead>
          <tbody>{letters.map((l) => (
            <tr key={l.id}>
              <td><input type="checkbox" aria-label={t("dead.selectOne", { id: l.event.id ?? l.id })} checked={chosen.has(l.id)} onChange={(e) => { const n = new Set(chosen); if (e.target.checked) n.add(l.id); else n.delete(l.id); setChosen(n); }} /></td>
              <td>{l.event.event_type} <code>{l.event.id}</code></td><td>{l.reason}</td><td><code>{l.excerpt.slice(0, 120)}</code></td><td>{dateTime(l.at)}</td>
            </tr>))}
          </tbody>
        </table>
      )}
    </>
  );
}
