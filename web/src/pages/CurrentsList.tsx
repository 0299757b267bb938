import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { type Current, api, count, displayStatus, formatAge, partnerTitle, shortReason } from "../api";

export function CurrentsList() {
  const { t } = useTranslation();
  const [workspaces, setWorkspaces] = useState<string[]>(["default"]);
  const [workspace, setWorkspace] = useState("default");
  const [currents, setCurrents] = useState<Current[]>();
  const [error, setError] = useState<string>();
  useEffect(() => { void api<{ workspaces: string[] }>("GET", "/api/v1/workspaces").then((r) => setWorkspaces(r.workspaces)); }, []);
  useEffect(() => {
    let live = true;
    const load = () => api<{ currents: Current[] }>("GET", `/api/v1/currents?workspace=${encodeURIComponent(workspace)}`)
      .then((r) => live && setCurrents(r.currents), (e: Error) => live && setError(e.message));
    void load();
    const t = setInterval(load, 2000);
    return () => { live = false; clearInterval(t); };
  }, [workspace]);
  return (
    <section>
      <div className="row">
        <h1>{t("nav.dataExport")}</h1>
        <label className="inline">{t("common.workspace")}{" "}
          <select value={workspace} onChange={(e) => setWorkspace(e.target.value)}>{workspaces.map((w) => <option key={w}>{w}</option>)}</select>
        </label>
        <a className="button" href="#/new">{t("list.create")}</a>
      </div>
      {error && <p role="alert" className="error">{error}</p>}
      {currents && currents.length === 0 && <p>{t("list.empty")}</p>}
      {currents && currents.length > 0 && (
        <div className="table-scroll" tabIndex={0} aria-label={t("nav.dataExport")}><table>
          <thead><tr><th>{t("list.name")}</th><th>{t("list.partner")}</th><th>{t("list.status")}</th><th className="num">{t("list.delivered24h")}</th><th className="num">{t("list.errors")}</th><th className="num">{t("list.pending")}</th><th>{t("list.oldestPending")}</th></tr></thead>
          <tbody>
            {currents.map((c) => (
              <tr key={c.id}>
                <td><a href={`#/currents/${c.id}`}>{c.name}</a></td>
                <td>{partnerTitle(c.partner)}</td>
                <td><span className={`status ${displayStatus(c)}`}>{t(`status.${displayStatus(c)}`)}</span>
                  {c.status === "failing" && c.statusReason ? <small title={c.statusReason}> {shortReason(c.statusReason)}</small> : null}
                  {displayStatus(c) === "retrying" && c.stats.lastError ? <small title={c.stats.lastError}> {shortReason(c.stats.lastError)}</small> : null}</td>
                <td className="num">{count(c.stats.delivered24h)}</td>
                <td className="num">{count(c.stats.failedAttempts + c.stats.deadLettered)}</td>
                <td className="num">{count(c.stats.pending)}</td>
                <td>{formatAge(c.stats.oldestPendingAgeMs)}</td>
              </tr>
            ))}
          </tbody>
        </table></div>
      )}
      {currents && currents.length > 0 && <p className="scroll-cue">{t("common.scrollCue")}</p>}
    </section>
  );
}
