import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, count } from "../api";

/** Events delivered by type over the last hour or day, as bars (the original's Currents page shows the same). */
export function VolumeByType({ id }: { id: string }) {
  const { t } = useTranslation();
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
    <section aria-label={t("volume.title")}>
      <div className="row">
        <h2>{t("volume.title")}</h2>
        <label className="inline">{t("charts.window")} <select value={window} onChange={(e) => setWindow(e.target.value as "hour" | "day")}><option value="hour">{t("charts.lastHour")}</option><option value="day">{t("charts.last24h")}</option></select></label>
      </div>
      {types.length === 0 ? <p className="muted">{t("volume.empty")}</p> : (
        <table className="volume">
          <thead><tr><th>{t("volume.type")}</th><th className="num">{t("volume.delivered")}</th><th aria-hidden="true" /></tr></thead>
          <tbody>{types.map((t) => (
            <tr key={t.type}><td><code>{t.type}</code></td><td className="num">{count(t.delivered)}</td>
              <td aria-hidden="true" className="bar-cell"><span className="bar" style={{ width: `${(t.delivered / max) * 100}%` }} /></td></tr>))}
          </tbody>
        </table>
      )}
    </section>
  );
}
