import { useCallback, useEffect, useState } from "react";
import { api, relativeTime } from "../api";

interface Entry { id: number; at: string; actor: string; action: string; target: string | null; status: number; ip: string | null; requestId: string | null }

const PAGE = 50;

/** Who changed what, from the audit log: newest first, a page at a time. */
export function Audit() {
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
      <h1>Audit log</h1>
      <p>Every change made through the admin API or this dashboard: who, what, on which object, when, and how it ended. Reads are not logged.</p>
      {error && <p role="alert" className="error">{error}</p>}
      {entries.length === 0 && !error ? <p className="muted">No change yet.</p> : (
        <div className="table-scroll"><table aria-label="Audit log">
          <thead><tr><th>When</th><th>Who</th><th>What</th><th>Object</th><th className="num">Answer</th><th>From</th></tr></thead>
          <tbody>{entries.map((e) => (
            <tr key={e.id}><td><time dateTime={e.at} title={new Date(e.at).toLocaleString()}>{relativeTime(e.at)}</time></td><td>{e.actor}</td><td><code>{e.action}</code></td>
              <td>{e.target && /^[\w-]{8,}$/.test(e.target) && e.action.includes("/currents/") ? <a href={`#/currents/${e.target}`}>{e.target}</a> : e.target ?? "—"}</td>
              <td className="num">{e.status}</td><td>{e.ip ?? "—"}</td></tr>))}
          </tbody>
        </table></div>
      )}
      {!done && entries.length > 0 && <button type="button" className="secondary" onClick={() => void more(entries[entries.length - 1]?.id)}>Older entries</button>}
    </section>
  );
}
