import { useEffect, useMemo, useState } from "react";
import { api } from "../api";

interface Field { name: string; type: string; required: boolean; location: string; pii: boolean }
interface EventType { type: string; channel: string; description: string; deprecated: boolean; fields: Field[]; example: unknown }
interface Group { id: string; name: string; extension: boolean; eventTypes: EventType[] }

/** The event dictionary: every type with its fields (type, required, where, personal data) and an example event. */
export function EventDictionary({ type }: { type?: string }) {
  const [groups, setGroups] = useState<Group[]>([]);
  const [query, setQuery] = useState(type ?? "");
  useEffect(() => { void api<{ groups: Group[] }>("GET", "/api/v1/event-types").then((r) => setGroups(r.groups), () => undefined); }, []);
  const q = query.trim().toLowerCase();
  const shown = useMemo(() => groups.map((g) => ({ ...g, eventTypes: g.eventTypes.filter((t) => !q || t.type.toLowerCase().includes(q) || t.description.toLowerCase().includes(q)) }))
    .filter((g) => g.eventTypes.length > 0), [groups, q]);
  return (
    <section>
      <h1>Event dictionary</h1>
      <p>Every event type Currents takes and exports, by group: its fields, where each sits in the event, whether the catalog requires it, whether it is personal data, and an example.</p>
      <label>Search event types <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="e.g. email.Open, Purchase" /></label>
      {shown.map((g) => (
        <div key={g.id}>
          <h2>{g.name}{g.extension ? <small> (Currents' own types, not the original's)</small> : null}</h2>
          {g.eventTypes.slice(0, q ? 50 : 500).map((t) => (
            <details key={t.type} open={t.type === type}>
              <summary><code>{t.type}</code>{t.deprecated ? " (deprecated)" : ""}: {t.description}</summary>
              <div className="table-scroll"><table aria-label={`Fields of ${t.type}`}>
                <thead><tr><th>Field</th><th>Type</th><th>Where</th><th>Required</th><th>Personal data</th></tr></thead>
                <tbody>{t.fields.map((f) => <tr key={`${f.location}.${f.name}`}><td><code>{f.name}</code></td><td>{f.type}</td><td>{f.location}</td><td>{f.required ? "yes" : ""}</td><td>{f.pii ? "yes" : ""}</td></tr>)}</tbody>
              </table></div>
              <pre aria-label={`Example ${t.type}`}><code>{JSON.stringify(t.example, null, 2)}</code></pre>
            </details>
          ))}
        </div>
      ))}
    </section>
  );
}
