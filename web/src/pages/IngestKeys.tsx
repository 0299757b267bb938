import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, dateTime } from "../api";

interface Key { id: string; workspace: string; key: string; createdAt: string; revokedAt: string | null }

/** Ingest keys (create, shown once; revoke) and a "send your first event" panel. */
/** A new event id: a UUID where the browser makes one (https or localhost), else time and randomness. */
const newEventId = (): string => globalThis.crypto?.randomUUID?.() ?? `evt-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;

export function IngestKeys() {
  const { t } = useTranslation();
  const [keys, setKeys] = useState<Key[]>([]);
  const [workspace, setWorkspace] = useState("default");
  const [fresh, setFresh] = useState<Key>();
  const [error, setError] = useState<string>();
  const load = () => api<{ ingestKeys: Key[] }>("GET", "/api/v1/ingest-keys").then((r) => setKeys(r.ingestKeys), (e: Error) => setError(e.message));
  useEffect(() => { void load(); }, []);
  // The event id is made here (no uuidgen needed): sending the same command twice stores the event once.
  const [eventId, setEventId] = useState(newEventId);
  const curl = `curl ${location.origin}/v1/events -H "Authorization: Bearer ${fresh?.key ?? "<ingest key>"}" -H 'content-type: application/json' \\
  -d '{"events":[{"event_type":"users.messages.email.Send","id":"${eventId}","time":'$(date +%s)',"user":{"user_id":"u-1"},"properties":{"email_address":"ada@example.com","campaign_id":"c-1","dispatch_id":"d-1","send_id":"s-1"}}]}'`;
  return (
    <section>
      <h1>{t("keys.title")}</h1>
      {error && <p role="alert" className="error">{error}</p>}
      <form className="row" onSubmit={(e) => { e.preventDefault(); void api<Key>("POST", "/api/v1/ingest-keys", { workspace }).then((k) => { setFresh(k); void load(); }, (er: Error) => setError(er.message)); }}>
        <label>{t("common.workspace")} <input value={workspace} onChange={(e) => setWorkspace(e.target.value)} /></label>
        <button type="submit">{t("keys.create")}</button>
      </form>
      {fresh && <p role="status" className="ok">{t("keys.fresh", { workspace: fresh.workspace })} <code data-testid="new-key">{fresh.key}</code></p>}
      <div className="table-scroll"><table>
        <thead><tr><th>{t("keys.key")}</th><th>{t("common.workspace")}</th><th>{t("keys.created")}</th><th>{t("keys.state")}</th><th /></tr></thead>
        <tbody>{keys.map((k) => (
          <tr key={k.id}><td><code>{k.key}</code></td><td>{k.workspace}</td><td>{dateTime(k.createdAt)}</td><td>{k.revokedAt ? t("keys.revoked") : t("keys.active")}</td>
            <td>{!k.revokedAt && <button type="button" className="danger" onClick={() => { if (confirm(t("keys.confirmRevoke"))) void api("DELETE", `/api/v1/ingest-keys/${k.id}`).then(load); }}>{t("keys.revoke")}</button>}</td></tr>))}
        </tbody>
      </table></div>
      <h2>{t("keys.firstEvent")}</h2>
      <p className="help">{t("keys.curlHelp")}</p>
      <pre><code data-testid="first-event-curl">{curl}</code></pre>
      <button type="button" className="secondary" onClick={() => setEventId(newEventId())}>{t("keys.newId")}</button>
    </section>
  );
}
