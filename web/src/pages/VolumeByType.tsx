import { useEffect, useState } from "react";
import { api, count } from "../api";

/** Events delivered by type over the last hour or day, as bars (the original's Currents page shows the same). */
export function VolumeByType({ id }: { id: string }) {
  const [window, setWindow] = useState<"hour" | "day">("day");
  const [types, setTypes] = useState<Array<{ type: string; delivered: number }>>([]);
  useEffect(() => {
    let live = true;
    const load = () => api<{ types: Array<{ type: string; delivered: number }> }>("GET", `/api/v1/currents/${id}/volume?window=${window}`).then((r) => live && setTypes(r.types), () => undefined);
    void load();
    const t = setInterval(load, 10_000);
    return () => { live = false; clearInterval(t); };
  }, [id, window]);
  const max = Math.max(1, ...types.map((t) => t.delivered));
  return (
    <section aria-label="Volume by event type">
      <div className="row">
        <h2>Volume by event type</h2>
        <label className="inline">Window <select value={window} onChange={(e) => setWindow(e.target.value as "hour" | "day")}><option value="hour">Last hour</option><option value="day">Last 24 h</option></select></label>
      </div>
      {types.length === 0 ? <p className="muted">Nothing delivered in this window yet: each type's count appears here (updated every 10 s).</p> : (
        <table className="volume">
          <thead><tr><th>Event type</th><th className="num">Delivered</th><th aria-hidden="true" /></tr></thead>
          <tbody>{types.map((t) => (
            <tr key={t.type}><td><code>{t.type}</code></td><td className="num">{count(t.delivered)}</td>
              <td aria-hidden="true" className="bar-cell"><span className="bar" style={{ width: `${(t.delivered / max) * 100}%` }} /></td></tr>))}
          </tbody>
        </table>
      )}
    </section>
  );
}
