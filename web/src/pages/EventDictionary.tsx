import { useEffect, useMemo, useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../api";

interface Field { name: string; type: string; required: boolean; location: string; pii: boolean }
interface EventType { type: string; channel: string; description: string; deprecated: boolean; fields: Field[]; example: unknown }
interface Group { id: string; name: string; extension: boolean; eventTypes: EventType[] }

/** The event dictionary: every type with its fields (type, required, where, personal data) and an example event. */
export function EventDictionary({ type }: { type?: string }) {
  const { t } = useTranslation();
  const [groups, setGroups] = useState<Group[]>([]);
  const [query, setQuery] = useState(type ?? "");
  useEffect(() => { void api<{ groups: Group[] }>("GET", "/api/v1/event-types").then((r) => setGroups(r.groups), () => undefined); }, []);
  const q = query.trim().toLowerCase();
  const shown = useMemo(() => groups.map((g) => ({ ...g, eventTypes: g.eventTypes.filter((t) => !q || t.type.toLowerCase().includes(q) || t.description.toLowerCase().includes(q)) }))
    .filter((g) => g.eventTypes.length > 0), [groups, q]);
  return (
    <section>
      <h1>{t("dictionary.title")}</h1>
      <p>{t("dictionary.intro")}</p>
      <label>{t("picker.search")} <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder={t("picker.searchPlaceholder")} /></label>
      {shown.map((g) => (
        <div key={g.id}>
          <h2>{t(`groups.${g.id}`, { defaultValue: g.name })}{g.extension ? <small> ({t("dictionary.extension")})</small> : null}</h2>
          {g.eventTypes.slice(0, q ? 50 : 500).map((x) => (
            <details key={x.type} open={x.type === type}>
              <summary><code>{x.type}</code>{x.deprecated ? ` (${t("picker.deprecated")})` : ""}: {x.description}</summary>
              <div className="table-scroll"><table aria-label={t("dictionary.fieldsOf", { type: x.type })}>
                <thead><tr><th>{t("dictionary.field")}</th><th>{t("dictionary.type")}</th><th>{t("dictionary.where")}</th><th>{t("dictionary.required")}</th><th>{t("dictionary.pii")}</th></tr></thead>
                <tbody>{x.fields.map((f) => <tr key={`${f.location}.${f.name}`}><td><code>{f.name}</code></td><td>{f.type}</td><td>{f.location}</td><td>{f.required ? t("common.yes") : ""}</td><td>{f.pii ? t("common.yes") : ""}</td></tr>)}</tbody>
              </table></div>
              <pre aria-label={t("dictionary.exampleOf", { type: x.type })}><code>{JSON.stringify(x.example, null, 2)}</code></pre>
            </details>
          ))}
        </div>
      ))}
    </section>
  );
}
