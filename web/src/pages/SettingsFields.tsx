import i18n from "../i18n";
import { type PartnerInfo, type PartnerSetting, choiceLabel, settingText } from "../api";

/** A setting's label in the reader's language (the partner's own words when not translated). */
export const settingLabel = (s: PartnerSetting): string => settingText(s, "label", i18n.t(`settings.${s.key}`, { defaultValue: s.label }));

export type SettingValues = Record<string, string | boolean>;

/** A field map as the form edits it: one "path = name" a line. */
const mapToText = (m: unknown) => (m && typeof m === "object" ? Object.entries(m as Record<string, string>).map(([k, v]) => `${k} = ${v}`).join("\n") : "");

/** The form's values from saved settings (secrets stay masked: sent back as shown, they are kept). */
export function initialValues(partner: PartnerInfo | undefined, saved: Record<string, unknown> = {}): SettingValues {
  const v: SettingValues = {};
  for (const s of partner?.settings ?? []) {
    const x = saved[s.key];
    if (s.type === "boolean") v[s.key] = x === true;
    else if (s.type === "fieldMap") v[s.key] = mapToText(x ?? s.default);
    else v[s.key] = x === undefined || x === null ? "" : String(x);
  }
  return v;
}

/** The settings to send: empty ones left out (or null when `clearEmpty`, to clear a saved one). */
export function settingsBody(partner: PartnerInfo | undefined, values: SettingValues, clearEmpty = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of partner?.settings ?? []) {
    const v = values[s.key];
    if (s.type === "boolean") {
      out[s.key] = v === true;
      continue;
    }
    const text = s.multiline ? String(v ?? "") : String(v ?? "").trim();
    if (text === "") {
      if (clearEmpty) out[s.key] = null;
      continue;
    }
    if (s.type === "number") out[s.key] = Number(text);
    else if (s.type === "fieldMap") {
      out[s.key] = Object.fromEntries(text.split("\n").map((l) => l.split("=").map((x) => x.trim())).filter((p) => p[0]).map(([k, name]) => [k, name ?? ""]));
    } else out[s.key] = text;
  }
  return out;
}

/** What is wrong with the values, by setting key, before asking the server (which checks again). */
export function checkValues(partner: PartnerInfo | undefined, values: SettingValues): Record<string, string> {
  const e: Record<string, string> = {};
  for (const s of partner?.settings ?? []) {
    const text = typeof values[s.key] === "string" ? (values[s.key] as string).trim() : "";
    if (s.type === "boolean") continue;
    if (text === "") {
      if (s.required) e[s.key] = i18n.t("settings.required", { label: settingLabel(s) });
      continue;
    }
    if (s.type === "url") {
      try {
        if (!/^https?:$/.test(new URL(text).protocol)) e[s.key] = i18n.t("settings.https", { label: settingLabel(s).toLowerCase() });
      } catch { e[s.key] = i18n.t("settings.fullUrl", { label: settingLabel(s).toLowerCase() }); }
    }
    if (s.type === "number" && (!/^\d+$/.test(text) || (s.min !== undefined && Number(text) < s.min) || (s.max !== undefined && Number(text) > s.max))) {
      e[s.key] = i18n.t("settings.number", { label: settingLabel(s), min: s.min ?? 0, max: s.max ?? "∞" });
    }
    if (s.type === "string" && !s.secret && s.pattern && !new RegExp(s.pattern).test(text)) e[s.key] = i18n.t("settings.invalid", { label: settingLabel(s), why: settingText(s, "pattern", s.patternHelp ?? "is not valid") });
  }
  return e;
}

const fieldLabel = (s: PartnerSetting) => (s.required || s.type === "boolean" ? settingLabel(s) : `${settingLabel(s)} (${i18n.t("common.optional")})`);

/** One input per setting of the partner, each explained in one line. */
export function SettingsFields({ partner, values, onChange, errors, idPrefix = "" }: {
  partner: PartnerInfo; values: SettingValues; onChange: (v: SettingValues) => void; errors: Record<string, string>; idPrefix?: string;
}) {
  const set = (key: string, v: string | boolean) => onChange({ ...values, [key]: v });
  return (
    <>
      {partner.settings.map((s) => {
        const id = `${idPrefix}${s.key}`;
        const described = `${id}-help${errors[s.key] ? ` ${id}-error` : ""}`;
        const common = { id, "aria-invalid": !!errors[s.key], "aria-describedby": described };
        const placeholder = s.default !== undefined && typeof s.default !== "object" ? String(s.default) : s.type === "url" ? "https://…" : undefined;
        return (
          <div key={s.key} className="setting">
            {s.type === "boolean" ? (
              <label className="choice"><input type="checkbox" {...common} checked={values[s.key] === true} onChange={(e) => set(s.key, e.target.checked)} />{fieldLabel(s)}</label>
            ) : (
              <label htmlFor={id}>{fieldLabel(s)}</label>
            )}
            {s.type === "choice" && (
              <select {...common} value={String(values[s.key] || s.default || "")} onChange={(e) => set(s.key, e.target.value)}>
                {(s.choices ?? []).map((c) => <option key={c.value} value={c.value}>{choiceLabel(s, c.value, c.label)}</option>)}
              </select>
            )}
            {s.type === "string" && s.multiline && <textarea {...common} rows={4} value={String(values[s.key] ?? "")} onChange={(e) => set(s.key, e.target.value)} />}
            {s.type === "fieldMap" && <textarea {...common} rows={3} value={String(values[s.key] ?? "")} onChange={(e) => set(s.key, e.target.value)} placeholder="properties.email_address = email" />}
            {((s.type === "string" && !s.multiline) || s.type === "url" || s.type === "number") && (
              <input {...common} type={s.secret ? "password" : s.type === "url" ? "url" : s.type === "number" ? "number" : "text"} autoComplete="off"
                value={String(values[s.key] ?? "")} placeholder={placeholder} onChange={(e) => set(s.key, e.target.value)} />
            )}
            <p id={`${id}-help`} className="help">{settingText(s, "help", s.help)}</p>
            {errors[s.key] && <p id={`${id}-error`} role="alert" className="error">{errors[s.key]}</p>}
          </div>
        );
      })}
    </>
  );
}
