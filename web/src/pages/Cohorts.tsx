import { type FormEvent, useCallback, useEffect, useMemo, useState } from "react";
import type uPlot from "uplot";
import { api } from "../api";
import { Chart } from "./Charts";

interface Cohort { id: string; workspace: string; partner: string; cohortId: string; name: string; size: number; createdAt: string; updatedAt: string }
interface Change { at: string; requestId: string; joined: number; left: number; sizeAfter: number; name: string | null }
interface ImportKey { id: string; workspace: string; key: string; createdAt: string }
interface Member { kind: string; id?: string; alias?: { alias_name: string; alias_label: string }; since: string }

const n = (x: number) => x.toLocaleString();
const when = (iso: string) => new Date(iso).toLocaleString();

/** Partner Integrations > Cohorts: the data import key, Heap's setup, the cohorts and a user lookup. */
export function Cohorts({ id, readOnly }: { id?: string; readOnly: boolean }) {
  if (id) return <CohortDetails id={id} />;
  return (
    <section>
      <h1>Cohorts</h1>
      <p>Cohorts (segments) built in Heap come back here through the Partner Cohort Import API: their members are kept per workspace, can be looked up before a send, and each change can stream out as <code>users.cohorts.Enter</code> / <code>Exit</code> events.</p>
      <ImportKeys readOnly={readOnly} />
      <CohortList />
      <UserLookup />
    </section>
  );
}

function ImportKeys({ readOnly }: { readOnly: boolean }) {
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
      <h2>Connect Heap</h2>
      <ol className="setup">
        <li>In Heap, add the cohort sync destination for this messaging platform.</li>
        <li>As its REST endpoint, give <code data-testid="cohort-endpoint">{location.origin}</code> (Heap posts to <code>/partners/heap/cohorts</code> and <code>/partners/heap/cohorts/users</code>).</li>
        <li>As its data import key, paste a key created here; then choose the cohorts to sync.</li>
      </ol>
      {error && <p role="alert" className="error">{error}</p>}
      {!readOnly && (
        <form className="row" onSubmit={create}>
          <label>Workspace <input value={workspace} onChange={(e) => setWorkspace(e.target.value)} /></label>
          <button type="submit">Create data import key</button>
        </form>
      )}
      {fresh && <p role="status" className="ok">New data import key for {fresh.workspace} (shown once, copy it now): <code data-testid="new-import-key">{fresh.key}</code></p>}
      {keys.length > 0 && (
        <div className="table-scroll"><table>
          <thead><tr><th>Data import key</th><th>Workspace</th><th>Created</th><th /></tr></thead>
          <tbody>{keys.map((k) => (
            <tr key={k.id}><td><code>{k.key}</code></td><td>{k.workspace}</td><td>{when(k.createdAt)}</td>
              <td>{!readOnly && <button type="button" className="danger" onClick={() => { if (confirm("Revoke this key? Heap's sync with it will get 401.")) void api("DELETE", `/api/v1/data-import-keys/${k.id}`).then(load); }}>Revoke</button>}</td></tr>))}
          </tbody>
        </table></div>
      )}
    </>
  );
}

function CohortList() {
  const [cohorts, setCohorts] = useState<Cohort[]>([]);
  const [search, setSearch] = useState("");
  useEffect(() => {
    let live = true;
    const load = () => api<{ cohorts: Cohort[] }>("GET", `/api/v1/cohorts?limit=500${search ? `&search=${encodeURIComponent(search)}` : ""}`).then((r) => live && setCohorts(r.cohorts), () => undefined);
    void load();
    const t = setInterval(load, 3000);
    return () => { live = false; clearInterval(t); };
  }, [search]);
  const sorted = [...cohorts].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  return (
    <>
      <h2>Cohorts</h2>
      <label>Search cohorts <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="name or Heap's cohort id" /></label>
      {sorted.length === 0 ? <p className="muted">No cohort yet: they appear here when Heap's first sync arrives.</p> : (
        <div className="table-scroll"><table>
          <thead><tr><th>Cohort</th><th>Partner</th><th>Partner's id</th><th>Workspace</th><th className="num">Members</th><th>Last change</th></tr></thead>
          <tbody>{sorted.map((c) => (
            <tr key={c.id}><td><a href={`#/cohorts/${c.id}`}>{c.name}</a></td><td>{c.partner}</td><td>{c.cohortId}</td><td>{c.workspace}</td><td className="num">{n(c.size)}</td><td>{when(c.updatedAt)}</td></tr>))}
          </tbody>
        </table></div>
      )}
    </>
  );
}

function UserLookup() {
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
      <h2>Look up a user</h2>
      <form className="row" onSubmit={look}>
        <label>User <input value={user} onChange={(e) => setUser(e.target.value)} required /></label>
        <label>Id kind <select value={kind} onChange={(e) => setKind(e.target.value)}><option value="user">external user id</option><option value="device">device id</option><option value="alias">alias</option></select></label>
        {kind === "alias" && <label>Alias label <input value={label} onChange={(e) => setLabel(e.target.value)} /></label>}
        <label>Workspace <input value={workspace} onChange={(e) => setWorkspace(e.target.value)} /></label>
        <button type="submit">Look up</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      {found && (found.length === 0 ? <p data-testid="user-cohorts">In no cohort.</p> : (
        <ul data-testid="user-cohorts">{found.map((c) => <li key={c.id}><a href={`#/cohorts/${c.id}`}>{c.name}</a> ({c.partner}), since {when(c.since)}</li>)}</ul>
      ))}
    </>
  );
}

function CohortDetails({ id }: { id: string }) {
  const [cohort, setCohort] = useState<Cohort & { history: Change[] }>();
  const [members, setMembers] = useState<Member[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    let live = true;
    const load = () => api<Cohort & { history: Change[] }>("GET", `/api/v1/cohorts/${id}`).then((c) => live && setCohort(c), (e: Error) => setError(e.message));
    void load();
    void api<{ members: Member[] }>("GET", `/api/v1/cohorts/${id}/members?limit=20`).then((r) => live && setMembers(r.members), () => undefined);
    const t = setInterval(load, 5000);
    return () => { live = false; clearInterval(t); };
  }, [id]);
  // Size over time: the size after each change, oldest first.
  const data = useMemo<uPlot.AlignedData>(() => {
    const h = [...(cohort?.history ?? [])].reverse();
    return [h.map((c) => Date.parse(c.at) / 1000), h.map((c) => c.sizeAfter)];
  }, [cohort]);
  if (error) return <p role="alert" className="error">{error}</p>;
  if (!cohort) return <p>Loading…</p>;
  const first = data[0][0];
  // The axis fits the history (a minute at least), not a fixed hour the data would sit at the edge of.
  const span = Math.max(60, first === undefined ? 0 : (Date.now() / 1000 - first) * 1.05);
  return (
    <section>
      <p><a href="#/cohorts">← Cohorts</a></p>
      <h1>{cohort.name}</h1>
      <dl className="facts">
        <dt>Members</dt><dd data-testid="cohort-size">{n(cohort.size)}</dd>
        <dt>Partner</dt><dd>{cohort.partner} (cohort {cohort.cohortId})</dd>
        <dt>Workspace</dt><dd>{cohort.workspace}</dd>
        <dt>Created in {cohort.partner}</dt><dd>{when(cohort.createdAt)}</dd>
        <dt>Last change</dt><dd>{when(cohort.updatedAt)}</dd>
      </dl>
      {cohort.history.length > 1
        ? <Chart title="Members over time" data={data} series={[{ label: "members", stroke: "#2563eb" }]} spanSeconds={span} />
        : <p className="muted">The size chart appears after the first membership change.</p>}
      <h2>Recent changes</h2>
      <div className="table-scroll"><table>
        <thead><tr><th>When</th><th className="num">Joined</th><th className="num">Left</th><th className="num">Members after</th><th>Note</th></tr></thead>
        <tbody>{cohort.history.slice(0, 50).map((c, i) => (
          <tr key={`${c.requestId}-${i}`}><td>{when(c.at)}</td><td className="num">{n(c.joined)}</td><td className="num">{n(c.left)}</td><td className="num">{n(c.sizeAfter)}</td><td>{c.name !== null ? `named "${c.name}"` : ""}</td></tr>))}
        </tbody>
      </table></div>
      <h2>Members (first 20)</h2>
      <ul>{members.map((m) => <li key={`${m.kind}:${m.id ?? JSON.stringify(m.alias)}`}>{m.kind === "alias" ? `${m.alias?.alias_label}: ${m.alias?.alias_name}` : m.id} <span className="muted">({m.kind}, since {when(m.since)})</span></li>)}</ul>
    </section>
  );
}
