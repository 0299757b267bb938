import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, dateTime, relativeTime } from "../api";

interface Entry { id: number; at: string; actor: string; action: string; target: string | null; status: number; ip: string | null; requestId: string | null }

const PAGE = 50;

/** Who changed what, from the audit log: newest first, a page at a time. */
export function Audit() {
  const { t } = useTranslation();
  const [entries, setEntries] = useState<Entry[]>([]);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<string>();
  const more = useCallback(async (before?: number) => {
    try {
      const r = await api<{ audit: Entry[] }>("GET", `/api/v1/audit?limit=${PAGE}${before ? `&before=${before}` : ""}`);
      setEntries((old) => (before ? [...old, ...r.audit] : r.audit));
      setDone(r.audit.length < PAGE);
    } catch (e) { setError((e as Error).message); }
  }, []);
  useEffect(() => { void more(); }, [more]);
  return (
    <section>
      <h1>{t("audit.title")}</h1>
      <p>{t("audit.intro")}</p>
      {error && <p role="alert" className="error">{error}</p>}
      {entries.length === 0 && !error ? <p className="muted">{t("audit.empty")}</p> : (
        <div className="table-scroll"><table aria-label={t("audit.title")}>
          <thead><tr><th>{t("audit.when")}</th><th>{t("audit.who")}</th><th>{t("audit.what")}</th><th>{t("audit.object")}</th><th className="num">{t("audit.answer")}</th><th>{t("audit.from")}</th></tr></thead>
          <tbody>{entries.map((e) => (
            <tr key={e.id}><td><time dateTime={e.at} title={dateTime(e.at)}>{relativeTime(e.at)}</time></td><td>{e.actor}</td><td><code>{e.action}</code></td>
              <td>{e.target && /^[\w-]{8,}$/.test(e.target) && e.action.includes("/currents/") ? <a href={`#/currents/${e.target}`}>{e.target}</a> : e.target ?? "—"}</td>
              <td className="num">{e.status}</td><td>{e.ip ?? "—"}</td></tr>))}
          </tbody>
        </table></div>
      )}
      {!done && entries.length > 0 && <button type="button" className="secondary" onClick={() => void more(entries[entries.length - 1]?.id)}>{t("audit.older")}</button>}
    </section>
  );
}
