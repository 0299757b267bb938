import { useMemo, useState } from "react";
import type { EventTypeGroup } from "../api";

/** The event selection: the groups (Currents' extension group marked), select-all per group, channel sub-groups, a search box, a count. */
export function EventPicker({ groups, selected, onChange }: { groups: EventTypeGroup[]; selected: Set<string>; onChange: (s: Set<string>) => void }) {
  const [query, setQuery] = useState("");
  const q = query.trim().toLowerCase();
  const visible = useMemo(() => groups.map((g) => ({
    ...g,
    eventTypes: g.eventTypes.filter((t) => !q || t.type.toLowerCase().includes(q) || t.channel.includes(q) || t.description.toLowerCase().includes(q)),
  })), [groups, q]);
  const toggle = (types: string[], on: boolean) => {
    const next = new Set(selected);
    for (const t of types) {
      if (on) next.add(t);
      else next.delete(t);
    }
    onChange(next);
  };
  return (
    <fieldset>
      <legend>Events to export <span className="count" aria-live="polite">{selected.size} selected</span></legend>
      <p className="hint">Each type's fields and an example event: <a href="#/events" target="_blank" rel="noreferrer">the event dictionary</a> (opens in a new tab; the ⓘ beside a type opens its entry).</p>
      <label htmlFor="event-search">Search event types</label>
      <input id="event-search" type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="e.g. email, Purchase" />
      {visible.map((g) => {
        const all = g.eventTypes.map((t) => t.type);
        const allOn = all.length > 0 && all.every((t) => selected.has(t));
        const channels = [...new Set(g.eventTypes.map((t) => t.channel))];
        return (
          <div key={g.id} className="group">
            <label className="group-head">
              <input type="checkbox" checked={allOn} onChange={(e) => toggle(all, e.target.checked)} aria-label={`Select all ${g.name.toLowerCase()}`} />
              {g.name} <small>({all.filter((t) => selected.has(t)).length}/{all.length})</small>{g.extension ? <small className="muted"> Currents' own types</small> : null}
            </label>
            {channels.map((ch) => (
              <div key={ch} className="channel">
                <div className="channel-name">{ch.replaceAll("_", " ")}</div>
                {g.eventTypes.filter((t) => t.channel === ch).map((t) => (
                  <span key={t.type} className="event-row">
                    <label title={t.description} className="event">
                      <input type="checkbox" checked={selected.has(t.type)} onChange={(e) => toggle([t.type], e.target.checked)} />
                      {t.type}{t.deprecated ? <small> (deprecated)</small> : null}
                    </label>
                    <a className="info" href={`#/events/${t.type}`} target="_blank" rel="noreferrer" aria-label={`${t.type} in the event dictionary`} title="Fields and an example">ⓘ</a>
                  </span>
                ))}
              </div>
            ))}
          </div>
        );
      })}
    </fieldset>
  );
}
