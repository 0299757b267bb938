import { type FormEvent, useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, type Current, type EventTypeGroup, type PartnerInfo, api, loadPartners } from "../api";
import { EventPicker } from "./EventPicker";
import { type SettingValues, SettingsFields, checkValues, initialValues, settingsBody } from "./SettingsFields";
import { TransformationsFields, type Transforms, checkMessage, transformationsBody } from "./TransformationsFields";

const BATCHING = [
  { key: "maxBatchEvents", min: 1, max: 10_000 },
  { key: "lingerMs", min: 0, max: 60_000 },
  { key: "maxInFlight", min: 1, max: 64 },
  { key: "requestTimeoutMs", min: 100, max: 120_000 },
] as const;
type BatchKey = (typeof BATCHING)[number]["key"];

/**
 * Edit in place, just under the Current's actions: every setting (name, contact, the partner's
 * settings with secrets kept when left masked, events, transformations, order, batching),
 * Check connection, Cancel, and each error beside its field.
 */
export function EditCurrent({ current, onDone }: { current: Current; onDone: (message?: string) => void }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLFormElement>(null);
  const [name, setName] = useState(current.name);
  const [email, setEmail] = useState(current.contactEmail ?? "");
  const [partner, setPartner] = useState<PartnerInfo>();
  const [values, setValues] = useState<SettingValues>({});
  const [groups, setGroups] = useState<EventTypeGroup[]>([]);
  const [selected, setSelected] = useState(new Set(current.events));
  const [transforms, setTransforms] = useState<Transforms>(Object.fromEntries(current.transformations.map((x) => [x.field, x.action])));
  const [ordered, setOrdered] = useState(current.ordering === "per_user");
  const [fill, setFill] = useState((current as { batching?: { fill?: boolean } }).batching?.fill === true);
  const [batching, setBatching] = useState<Record<BatchKey, string>>(
    Object.fromEntries(BATCHING.map((b) => [b.key, (current as { batching?: Record<string, number> }).batching?.[b.key]?.toString() ?? ""])) as Record<BatchKey, string>);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [check, setCheck] = useState<string>();
  useEffect(() => { ref.current?.scrollIntoView({ behavior: "smooth", block: "start" }); ref.current?.querySelector("input")?.focus({ preventScroll: true }); }, []);
  useEffect(() => { void api<{ groups: EventTypeGroup[] }>("GET", "/api/v1/event-types").then((r) => setGroups(r.groups)); }, []);
  useEffect(() => {
    void loadPartners().then((ps) => {
      const p = ps.find((x) => x.id === current.partner);
      setPartner(p);
      setValues(initialValues(p, current.settings));
    });
    // Once per Current: the page reloads it every 1.5 s, and the form must keep what is being typed.
  }, [current.id]);
  const batchingBody = () => ({
    ...Object.fromEntries(BATCHING.map((b) => [b.key, batching[b.key].trim() === "" ? undefined : Number(batching[b.key])]).filter(([, v]) => v !== undefined)),
    ...(fill ? { fill: true } : {}),
  });
  const validate = () => {
    const e: Record<string, string> = { ...checkValues(partner, values) };
    if (!name.trim()) e.name = t("wizard.nameMissing");
    if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) e.contactEmail = t("wizard.emailInvalid");
    if (selected.size === 0) e.events = t("wizard.eventsMissing");
    for (const b of BATCHING) {
      const raw = batching[b.key].trim();
      if (raw !== "" && (!/^[0-9]+$/.test(raw) || Number(raw) < b.min || Number(raw) > b.max)) e[`batching.${b.key}`] = t("edit.range", { min: b.min, max: b.max });
    }
    return e;
  };
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    const problems = validate();
    setErrors(problems);
    if (Object.keys(problems).length > 0) { ref.current?.querySelector<HTMLElement>("[aria-invalid=true]")?.focus(); return; }
    try {
      await api("PATCH", `/api/v1/currents/${current.id}`, {
        name, contactEmail: email || null, settings: settingsBody(partner, values, true), events: [...selected],
        transformations: transformationsBody(transforms), ordering: ordered ? "per_user" : "none", batching: batchingBody(),
      });
      onDone(t("edit.updated"));
    } catch (err) {
      // The server's error goes beside the field it names (settings.endpoint -> endpoint).
      const field = err instanceof ApiError && err.field ? err.field.replace(/^settings\./, "") : "form";
      setErrors({ [field]: (err as Error).message });
    }
  };
  const connectionCheck = async () => {
    setCheck(t("wizard.checking"));
    try {
      setCheck(checkMessage(t, await api<{ ok: boolean; status: number | null; latencyMs: number; error?: string }>("POST", `/api/v1/currents/${current.id}/check`, { settings: settingsBody(partner, values) })));
    } catch (err) {
      const field = err instanceof ApiError && err.field ? err.field.replace(/^settings\./, "") : undefined;
      if (field) setErrors({ [field]: (err as Error).message });
      setCheck(undefined);
      if (!field) setCheck((err as Error).message);
    }
  };
  const err = (f: string) => (errors[f] ? <p id={`edit-${f}-error`} role="alert" className="error">{errors[f]}</p> : null);
  return (
    <form ref={ref} className="card edit" onSubmit={submit} noValidate aria-labelledby="edit-title">
      <h2 id="edit-title">{t("edit.title")}</h2>
      <label htmlFor="edit-name">{t("edit.exportName")}</label>
      <input id="edit-name" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!!errors.name} aria-describedby="edit-name-error" />
      {err("name")}
      <label htmlFor="edit-email">{t("edit.contactEmail")}</label>
      <input id="edit-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} aria-invalid={!!errors.contactEmail} aria-describedby="edit-contactEmail-error" />
      {err("contactEmail")}
      {partner && <SettingsFields partner={partner} values={values} onChange={(v) => { setValues(v); setCheck(undefined); }} errors={errors} idPrefix="edit-" />}
      <div className="row">
        <button type="button" className="secondary" onClick={() => void connectionCheck()}>{t("wizard.check")}</button>
        {check && <span aria-live="polite">{check}</span>}
      </div>
      <label className="choice"><input type="checkbox" checked={ordered} onChange={(e) => setOrdered(e.target.checked)} />{t("wizard.perUser")}</label>
      <fieldset>
        <legend>{t("edit.batching")}</legend>
        <p className="help">{t("edit.batchingHelp")}</p>
        <label className="choice"><input type="checkbox" checked={fill} onChange={(e) => setFill(e.target.checked)} />{t("edit.fill")}</label>
        {BATCHING.map((b) => (
          <div key={b.key} className="setting">
            <label htmlFor={`edit-batching-${b.key}`}>{t(`edit.batchingFields.${b.key}`)}</label>
            <input id={`edit-batching-${b.key}`} inputMode="numeric" value={batching[b.key]} placeholder={t("common.default")} aria-invalid={!!errors[`batching.${b.key}`]} aria-describedby={`edit-batching.${b.key}-error`}
              onChange={(e) => setBatching({ ...batching, [b.key]: e.target.value })} />
            {err(`batching.${b.key}`)}
          </div>
        ))}
      </fieldset>
      <EventPicker groups={groups} selected={selected} onChange={setSelected} />
      {err("events")}
      <TransformationsFields groups={groups} selected={selected} value={transforms} onChange={setTransforms} />
      {err("form")}
      <div className="row">
        <button type="submit">{t("edit.update")}</button>
        <button type="button" className="secondary" onClick={() => onDone()}>{t("edit.cancel")}</button>
      </div>
    </form>
  );
}
