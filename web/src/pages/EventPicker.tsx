import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { EventTypeGroup } from "../api";

/** The event selection: the groups (Currents' extension group marked), select-all per group, channel sub-groups, a search box, a count. */
export function EventPicker({ groups, selected, onChange }: { groups: EventTypeGroup[]; selected: Set<string>; onChange: (s: Set<string>) => void }) {
  const { t } = useTranslation();
  const [query, setQuery] = useState("");
  const q = query.trim().toLowerCase();
  const visible = useMemo(() => groups.map((g) => ({
    ...g,
    eventTypes: g.eventTypes.filter((x) => !q || x.type.toLowerCase().includes(q) || x.channel.includes(q) || x.description.toLowerCase().includes(q)),
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
      <legend>{t("picker.legend")} <span className="count" aria-live="polite">{t("picker.selected", { count: selected.size })}</span></legend>
      <p className="hint">{t("picker.dictionaryHint")} <a href="#/events" target="_blank" rel="noreferrer">{t("picker.dictionaryLink")}</a> {t("picker.dictionaryAfter")}</p>
      <label htmlFor="event-search">{t("picker.search")}</label>
      <input id="event-search" type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder={t("picker.searchPlaceholder")} />
      {visible.map((g) => {
        const all = g.eventTypes.map((x) => x.type);
        const allOn = all.length > 0 && all.every((x) => selected.has(x));
        const channels = [...new Set(g.eventTypes.map((x) => x.channel))];
        const groupName = t(`groups.${g.id}`, { defaultValue: g.name });
        return (
          <div key={g.id} className="group">
            <label className="group-head">
              <input type="checkbox" checked={allOn} onChange={(e) => toggle(all, e.target.checked)} aria-label={t("picker.selectAll", { group: groupName.toLowerCase() })} />
              {groupName} <small>({all.filter((x) => selected.has(x)).length}/{all.length})</small>{g.extension ? <small className="muted"> {t("picker.extension")}</small> : null}
            </label>
            {channels.map((ch) => (
              <div key={ch} className="channel">
                <div className="channel-name">{ch.replaceAll("_", " ")}</div>
                {g.eventTypes.filter((x) => x.channel === ch).map((x) => (
                  <span key={x.type} className="event-row">
                    <label title={x.description} className="event">
                      <input type="checkbox" checked={selected.has(x.type)} onChange={(e) => toggle([x.type], e.target.checked)} />
                      {x.type}{x.deprecated ? <small> ({t("picker.deprecated")})</small> : null}
                    </label>
                    <a className="info" href={`#/events/${x.type}`} target="_blank" rel="noreferrer" aria-label={t("picker.inDictionary", { type: x.type })} title="Fields and an example">ⓘ</a>
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
