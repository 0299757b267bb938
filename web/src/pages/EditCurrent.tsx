import { type FormEvent, useEffect, useState } from "react";
import { type Current, type EventTypeGroup, api } from "../api";
import { EventPicker } from "./EventPicker";

/** Edit -> Update Current: name, contact, endpoint, token (kept when left masked), events. */
export function EditCurrent({ current, onDone }: { current: Current; onDone: (message: string) => void }) {
  const [name, setName] = useState(current.name);
  const [email, setEmail] = useState(current.contactEmail ?? "");
  const [endpoint, setEndpoint] = useState(String(current.settings.endpoint ?? ""));
  const [token, setToken] = useState(String(current.settings.bearerToken ?? ""));
  const [groups, setGroups] = useState<EventTypeGroup[]>([]);
  const [selected, setSelected] = useState(new Set(current.events));
  const [error, setError] = useState<string>();
  useEffect(() => { void api<{ groups: EventTypeGroup[] }>("GET", "/api/v1/event-types").then((r) => setGroups(r.groups)); }, []);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api("PATCH", `/api/v1/currents/${current.id}`, { name, contactEmail: email || null, settings: { endpoint, bearerToken: token || null }, events: [...selected] });
      onDone("Current updated.");
    } catch (err) { setError((err as Error).message); }
  };
  return (
    <form className="card" onSubmit={submit}>
      <h2>Edit Current</h2>
      <label htmlFor="edit-name">Export name</label><input id="edit-name" value={name} onChange={(e) => setName(e.target.value)} />
      <label htmlFor="edit-email">Contact email</label><input id="edit-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
      <label htmlFor="edit-endpoint">Endpoint URL</label><input id="edit-endpoint" type="url" value={endpoint} onChange={(e) => setEndpoint(e.target.value)} />
      <label htmlFor="edit-token">Bearer token (leave masked to keep it)</label><input id="edit-token" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} />
      <EventPicker groups={groups} selected={selected} onChange={setSelected} />
      {error && <p role="alert" className="error">{error}</p>}
      <button type="submit">Update Current</button>
    </form>
  );
}
