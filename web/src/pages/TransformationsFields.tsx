import { useMemo } from "react";
import { useTranslation } from "react-i18next";
import type { EventTypeGroup } from "../api";

export type Transforms = Record<string, "remove" | "hash" | "">;

/** Keep, remove or hash each personal-data field of the selected event types (wizard and edit). */
export function TransformationsFields({ groups, selected, value, onChange }: { groups: EventTypeGroup[]; selected: Set<string>; value: Transforms; onChange: (v: Transforms) => void }) {
  const { t } = useTranslation();
  const fields = useMemo(() => {
    const f = new Set<string>(Object.keys(value).filter((k) => value[k]));
    for (const g of groups) for (const e of g.eventTypes) if (selected.has(e.type)) for (const p of e.piiFields) f.add(p);
    return [...f].sort();
  }, [groups, selected, value]);
  return (
    <fieldset>
      <legend>{t("wizard.piiLegend")}</legend>
      {fields.length === 0 && <p>{t("wizard.noPii")}</p>}
      {fields.map((f) => (
        <label key={f} className="inline transform">
          <span>{f}</span>
          <select aria-label={t("wizard.transformFor", { field: f })} value={value[f] ?? ""} onChange={(e) => onChange({ ...value, [f]: e.target.value as "remove" | "hash" | "" })}>
            <option value="">{t("wizard.keep")}</option><option value="remove">{t("wizard.remove")}</option><option value="hash">{t("wizard.hash")}</option>
          </select>
        </label>
      ))}
    </fieldset>
  );
}

export const transformationsBody = (v: Transforms) => Object.entries(v).filter(([, a]) => a).map(([field, action]) => ({ field, action }));

/** The words for a connection check's answer. */
export function checkMessage(t: (key: string, o?: Record<string, unknown>) => string, r: { ok: boolean; status: number | null; latencyMs: number; error?: string }): string {
  if (r.ok) return t("wizard.connected", { status: r.status, ms: Math.round(r.latencyMs) });
  if (r.status === 401 || r.status === 403) return t("wizard.refused", { status: r.status });
  return t("wizard.checkFailed", { why: r.error ?? `HTTP ${r.status}` });
}
