import { type FormEvent, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { type Current, type EventTypeGroup, type PartnerInfo, api, loadPartners } from "../api";
import { EventPicker } from "./EventPicker";
import { type SettingValues, SettingsFields, checkValues, initialValues, settingsBody } from "./SettingsFields";

/** Edit -> Update Current: name, contact, the partner's settings (secrets kept when left masked), events. */
export function EditCurrent({ current, onDone }: { current: Current; onDone: (message: string) => void }) {
  const { t } = useTranslation();
  const [name, setName] = useState(current.name);
  const [email, setEmail] = useState(current.contactEmail ?? "");
  const [partner, setPartner] = useState<PartnerInfo>();
  const [values, setValues] = useState<SettingValues>({});
  const [groups, setGroups] = useState<EventTypeGroup[]>([]);
  const [selected, setSelected] = useState(new Set(current.events));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  useEffect(() => { void api<{ groups: EventTypeGroup[] }>("GET", "/api/v1/event-types").then((r) => setGroups(r.groups)); }, []);
  useEffect(() => {
    void loadPartners().then((ps) => {
      const p = ps.find((x) => x.id === current.partner);
      setPartner(p);
      setValues(initialValues(p, current.settings));
    });
    // Once per Current: the page reloads it every 1.5 s, and the form must keep what is being typed.
  }, [current.id]);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const problems = checkValues(partner, values);
    setErrors(problems);
    if (Object.keys(problems).length > 0) return;
    try {
      await api("PATCH", `/api/v1/currents/${current.id}`, { name, contactEmail: email || null, settings: settingsBody(partner, values, true), events: [...selected] });
      onDone(t("edit.updated"));
    } catch (err) { setError((err as Error).message); }
  };
  return (
    <form className="card" onSubmit={submit} noValidate>
      <h2>{t("edit.title")}</h2>
      <label htmlFor="edit-name">{t("edit.exportName")}</label><input id="edit-name" value={name} onChange={(e) => setName(e.target.value)} />
      <label htmlFor="edit-email">{t("edit.contactEmail")}</label><input id="edit-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
      {partner && <SettingsFields partner={partner} values={values} onChange={setValues} errors={errors} idPrefix="edit-" />}
      <EventPicker groups={groups} selected={selected} onChange={setSelected} />
      {error && <p role="alert" className="error">{error}</p>}
      <button type="submit">{t("edit.update")}</button>
    </form>
  );
}
