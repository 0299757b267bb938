import { useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import type { EventTypeGroup } from "../api";

type EventType = EventTypeGroup["eventTypes"][number];

/**
 * The event selection: per group a select-all box and a count of what is selected in the whole
 * group (hidden or not); channels fold (open while searching or when something in them is
 * selected); each type shows its friendly name, the type beneath and its description inline;
 * a search hides the groups and channels with nothing matching.
 */
export function EventPicker({ groups, selected, onChange }: { groups: EventTypeGroup[]; selected: Set<string>; onChange: (s: Set<string>) => void }) {
  const { t } = useTranslation();
  const [query, setQuery] = useState("");
  const q = query.trim().toLowerCase();
  const matches = (x: EventType) => !q || x.type.toLowerCase().includes(q) || (x.name ?? "").toLowerCase().includes(q) || x.channel.includes(q) || x.description.toLowerCase().includes(q);
  const visible = useMemo(() => groups.map((g) => ({ ...g, shown: g.eventTypes.filter(matches) })).filter((g) => !q || g.shown.length > 0), [groups, q]);
  const toggle = (types: string[], on: boolean) => {
    const next = new Set(selected);
    for (const type of types) {
      if (on) next.add(type);
      else next.delete(type);
    }
    onChange(next);
  };
  return (
    <fieldset className="picker">
      <legend>{t("picker.legend")} <span className="count" aria-live="polite">{t("picker.selected", { count: selected.size })}</span></legend>
      <p className="hint">{t("picker.dictionaryHint")} <a href="#/events" target="_blank" rel="noreferrer">{t("picker.dictionaryLink")}</a> {t("picker.dictionaryAfter")}</p>
      <div className="picker-search">
        <label htmlFor="event-search">{t("picker.search")}</label>
        <input id="event-search" type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder={t("picker.searchPlaceholder")} />
      </div>
      {q && visible.length === 0 && <p className="muted">{t("picker.noMatch", { query })}</p>}
      {visible.map((g) => {
        const shownTypes = g.shown.map((x) => x.type);
        const allOn = shownTypes.length > 0 && shownTypes.every((x) => selected.has(x));
        const chosen = g.eventTypes.filter((x) => selected.has(x.type)).length;
        const channels = [...new Set(g.shown.map((x) => x.channel))];
        const groupName = t(`groups.${g.id}`, { defaultValue: g.name });
        return (
          <div key={g.id} className="group">
            <label className="group-head">
              <input type="checkbox" checked={allOn} onChange={(e) => toggle(shownTypes, e.target.checked)}
                aria-label={q ? t("picker.selectMatching", { count: shownTypes.length, group: groupName.toLowerCase() }) : t("picker.selectAll", { group: groupName.toLowerCase() })} />
              {groupName} <small data-testid={`group-count-${g.id}`}>({chosen}/{g.eventTypes.length})</small>{g.extension ? <small className="muted"> {t("picker.extension")}</small> : null}
            </label>
            <div className="channels">
            {channels.map((ch) => {
              const types = g.shown.filter((x) => x.channel === ch);
              const on = g.eventTypes.filter((x) => x.channel === ch && selected.has(x.type)).length;
              return (
                <details key={`${ch}-${q ? "q" : ""}`} className="channel" open={!!q || on > 0 || channels.length === 1}>
                  <summary><span className="channel-name">{ch.replaceAll("_", " ")}</span> <small>({on}/{g.eventTypes.filter((x) => x.channel === ch).length})</small></summary>
                  <div className="event-grid">
                    {types.map((x) => (
                      <div key={x.type} className="event-row">
                        <input id={`pick-${x.type}`} type="checkbox" checked={selected.has(x.type)} onChange={(e) => toggle([x.type], e.target.checked)} aria-label={x.type} aria-describedby={`pick-${x.type}-about`} />
                        <label htmlFor={`pick-${x.type}`} className="event">
                          <span className="event-name">{x.name ?? x.type}{x.deprecated ? <small className="muted"> ({t("picker.deprecated")})</small> : null}</span>
                          <code className="event-type">{x.type}</code>
                          <span id={`pick-${x.type}-about`} className="event-about">{x.description}</span>
                        </label>
                        <a className="info" href={`#/events/${x.type}`} target="_blank" rel="noreferrer" aria-label={t("picker.inDictionary", { type: x.type })} title={t("picker.inDictionary", { type: x.type })}>ⓘ</a>
                      </div>
                    ))}
                  </div>
                </details>
              );
            })}
            </div>
          </div>
        );
      })}
    </fieldset>
  );
}
