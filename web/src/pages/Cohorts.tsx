import { type FormEvent, useCallback, useEffect, useMemo, useState } from "react";
import type uPlot from "uplot";
import { useTranslation } from "react-i18next";
import { api, count, dateTime } from "../api";
import { Chart } from "./Charts";

interface Cohort { id: string; workspace: string; partner: string; cohortId: string; name: string; size: number; createdAt: string; updatedAt: string }
interface Change { at: string; requestId: string; joined: number; left: number; sizeAfter: number; name: string | null }
interface ImportKey { id: string; workspace: string; key: string; createdAt: string }
interface Member { kind: string; id?: string; alias?: { alias_name: string; alias_label: string }; since: string }

const n = count;
const when = (iso: string) => dateTime(iso);

/** Partner Integrations > Cohorts: the data import key, Heap's setup, the cohorts and a user lookup. */
export function Cohorts({ id, readOnly }: { id?: string; readOnly: boolean }) {
  const { t } = useTranslation();
  if (id) return <CohortDetails id={id} />;
  return (
    <section>
      <h1>{t("cohorts.title")}</h1>
      <p>{t("cohorts.intro")} <code>users.cohorts.Enter</code> / <code>Exit</code>.</p>
      <ImportKeys readOnly={readOnly} />
      <CohortList />
      <UserLookup />
    </section>
  );
}

function ImportKeys({ readOnly }: { readOnly: boolean }) {
  const { t } = useTranslation();
  const [keys, setKeys] = useState<ImportKey[]>([]);
  const [fresh, setFresh] = useState<ImportKey>();
  const [workspace, setWorkspace] = useState("default");
  const [error, setError] = useState<string>();
  const load = useCallback(() => api<{ keys: ImportKey[] }>("GET", "/api/v1/data-import-keys").then((r) => setKeys(r.keys), (e: Error) => setError(e.message)), []);
  useEffect(() => { void load(); }, [load]);
  const create = (e: FormEvent) => {
    e.preventDefault();
    void api<ImportKey>("POST", "/api/v1/data-import-keys", { workspace }).then((k) => { setFresh(k); void load(); }, (er: Error) => setError(er.message));
  };
  return (
    <>
      <h2>{t("cohorts.connect")}</h2>
      <ol className="setup">
        <li>{t("cohorts.step1")}</li>
        <li>{t("cohorts.step2a")} <code data-testid="cohort-endpoint">{location.origin}</code> ({t("cohorts.step2b")} <code>/partners/heap/cohorts</code> / <code>/partners/heap/cohorts/users</code>).</li>
        <li>{t("cohorts.step3")}</li>
      </ol>
      {error && <p role="alert" className="error">{error}</p>}
      {!readOnly && (
        <form className="row" onSubmit={create}>
          <label>{t("common.workspace")} <input value={workspace} onChange={(e) => setWorkspace(e.target.value)} /></label>
          <button type="submit">{t("cohorts.createKey")}</button>
        </form>
      )}
      {fresh && <p role="status" className="ok">{t("cohorts.freshKey", { workspace: fresh.workspace })} <code data-testid="new-import-key">{fresh.key}</code></p>}
      {keys.length > 0 && (
        <div className="table-scroll"><table>
          <thead><tr><th>{t("cohorts.key")}</th><th>{t("common.workspace")}</th><th>{t("cohorts.created")}</th><th /></tr></thead>
          <tbody>{keys.map((k) => (
            <tr key={k.id}><td><code>{k.key}</code></td><td>{k.workspace}</td><td>{when(k.createdAt)}</td>
              <td>{!readOnly && <button type="button" className="danger" onClick={() => { if (confirm(t("cohorts.confirmRevoke"))) void api("DELETE", `/api/v1/data-import-keys/${k.id}`).then(load); }}>{t("cohorts.revoke")}</button>}</td></tr>))}
          </tbody>
        </table></div>
      )}
    </>
  );
}

function CohortList() {
  const { t } = useTranslation();
  const [cohorts, setCohorts] = useState<Cohort[]>([]);
  const [search, setSearch] = useState("");
  useEffect(() => {
    let live = true;
    const load = () => api<{ cohorts: Cohort[] }>("GET", `/api/v1/cohorts?limit=500${search ? `&search=${encodeURIComponent(search)}` : ""}`).then((r) => live && setCohorts(r.cohorts), () => undefined);
    void load();
    const timer = setInterval(load, 3000);
    return () => { live = false; clearInterval(timer); };
  }, [search]);
  const sorted = [...cohorts].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  return (
    <>
      <h2>{t("cohorts.title")}</h2>
      <label>{t("cohorts.search")} <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder={t("cohorts.searchPlaceholder")} /></label>
      {sorted.length === 0 ? <p className="muted">{t("cohorts.empty")}</p> : (
        <div className="table-scroll"><table>
          <thead><tr><th>{t("cohorts.cohort")}</th><th>{t("list.partner")}</th><th>{t("cohorts.partnerId")}</th><th>{t("common.workspace")}</th><th className="num">{t("cohorts.members")}</th><th>{t("cohorts.lastChange")}</th></tr></thead>
          <tbody>{sorted.map((c) => (
            <tr key={c.id}><td><a href={`#/cohorts/${c.id}`}>{c.name}</a></td><td>{c.partner}</td><td>{c.cohortId}</td><td>{c.workspace}</td><td className="num">{n(c.size)}</td><td>{when(c.updatedAt)}</td></tr>))}
          </tbody>
        </table></div>
      )}
    </>
  );
}

function UserLookup() {
  const { t } = useTranslation();
  const [user, setUser] = useState("");
  const [kind, setKind] = useState("user");
  const [label, setLabel] = useState("");
  const [workspace, setWorkspace] = useState("default");
  const [found, setFound] = useState<Array<Cohort & { since: string }>>();
  const [error, setError] = useState<string>();
  const look = (e: FormEvent) => {
    e.preventDefault();
    const q = `workspace=${encodeURIComponent(workspace)}&kind=${kind}${kind === "alias" ? `&label=${encodeURIComponent(label)}` : ""}`;
    void api<{ cohorts: Array<Cohort & { since: string }> }>("GET", `/api/v1/users/${encodeURIComponent(user)}/cohorts?${q}`).then((r) => { setFound(r.cohorts); setError(undefined); }, (er: Error) => setError(er.message));
  };
  return (
    <>
      <h2>{t("cohorts.lookup")}</h2>
      <form className="row" onSubmit={look}>
        <label>{t("cohorts.user")} <input value={user} onChange={(e) => setUser(e.target.value)} required /></label>
        <label>{t("cohorts.idKind")} <select value={kind} onChange={(e) => setKind(e.target.value)}><option value="user">{t("cohorts.kinds.user")}</option><option value="device">{t("cohorts.kinds.device")}</option><option value="alias">{t("cohorts.kinds.alias")}</option></select></label>
        {kind === "alias" && <label>{t("cohorts.aliasLabel")} <input value={label} onChange={(e) => setLabel(e.target.value)} /></label>}
        <label>{t("common.workspace")} <input value={workspace} onChange={(e) => setWorkspace(e.target.value)} /></label>
        <button type="submit">{t("cohorts.lookUp")}</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      {found && (found.length === 0 ? <p data-testid="user-cohorts">{t("cohorts.inNone")}</p> : (
        <ul data-testid="user-cohorts">{found.map((c) => <li key={c.id}><a href={`#/cohorts/${c.id}`}>{c.name}</a> ({c.partner}), {t("cohorts.since", { when: when(c.since) })}</li>)}</ul>
      ))}
    </>
  );
}

function CohortDetails({ id }: { id: string }) {
  const { t } = useTranslation();
  const [cohort, setCohort] = useState<Cohort & { history: Change[] }>();
  const [members, setMembers] = useState<Member[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    const load = () => api<Cohort & { history: Change[] }>("GET", `/api/v1/cohorts/${id}`).then((c) => live && setCohort(c), (e: Error) => setError(e.message));
    void load();
    void api<{ members: Member[] }>("GET", `/api/v1/cohorts/${id}/members?limit=20`).then((r) => live && setMembers(r.members), () => undefined);
    const timer = setInterval(load, 5000);
    return () => { live = false; clearInterval(timer); };
  }, [id]);
  // Size over time: the size after each change, oldest first.
  const data = useMemo<uPlot.AlignedData>(() => {
    const h = [...(cohort?.history ?? [])].reverse();
    return [h.map((c) => Date.parse(c.at) / 1000), h.map((c) => c.sizeAfter)];
  }, [cohort]);
  if (error) return <p role="alert" className="error">{error}</p>;
  if (!cohort) return <p>{t("common.loading")}</p>;
  // The axis fits the history (a minute at least) up to now, not a fixed window the changes would sit at the edge of.
  const first = data[0][0];
  const now = Date.now() / 1000;
  const span = Math.max(60, first === undefined ? 0 : (now - first) * 1.05);
  return (
    <section>
      <p><a href="#/cohorts">← {t("cohorts.title")}</a></p>
      <h1>{cohort.name}</h1>
      <dl className="facts">
        <dt>{t("cohorts.members")}</dt><dd data-testid="cohort-size">{n(cohort.size)}</dd>
        <dt>{t("list.partner")}</dt><dd>{cohort.partner} ({t("cohorts.cohort")} {cohort.cohortId})</dd>
        <dt>{t("common.workspace")}</dt><dd>{cohort.workspace}</dd>
        <dt>{t("cohorts.createdIn", { partner: cohort.partner })}</dt><dd>{when(cohort.createdAt)}</dd>
        <dt>{t("cohorts.lastChange")}</dt><dd>{when(cohort.updatedAt)}</dd>
      </dl>
      {cohort.history.length > 1
        ? <Chart title={t("cohorts.sizeChart")} data={data} series={[{ label: t("cohorts.membersSeries"), stroke: "#2563eb" }]} units={[t("cohorts.membersSeries")]} empty="" xRange={[now - span, now]} />
        : <p className="muted">{t("cohorts.sizeChartEmpty")}</p>}
      <h2>{t("cohorts.recentChanges")}</h2>
      <div className="table-scroll"><table>
        <thead><tr><th>{t("cohorts.when")}</th><th className="num">{t("cohorts.joined")}</th><th className="num">{t("cohorts.left")}</th><th className="num">{t("cohorts.membersAfter")}</th><th>{t("cohorts.note")}</th></tr></thead>
        <tbody>{cohort.history.slice(0, 50).map((c, i) => (
          <tr key={`${c.requestId}-${i}`}><td>{when(c.at)}</td><td className="num">{n(c.joined)}</td><td className="num">{n(c.left)}</td><td className="num">{n(c.sizeAfter)}</td><td>{c.name !== null ? t("cohorts.named", { name: c.name }) : ""}</td></tr>))}
        </tbody>
      </table></div>
      <h2>{t("cohorts.firstMembers")}</h2>
      <ul>{members.map((m) => <li key={`${m.kind}:${m.id ?? JSON.stringify(m.alias)}`}>{m.kind === "alias" ? `${m.alias?.alias_label}: ${m.alias?.alias_name}` : m.id} <span className="muted">({t(`cohorts.kinds.${m.kind}`)}, {t("cohorts.since", { when: when(m.since) })})</span></li>)}</ul>
    </section>
  );
}
