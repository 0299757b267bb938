import { type FormEvent, Fragment, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, type Current, type EventTypeGroup, type PartnerInfo, api, loadPartners, partnerDescription, partnerTitle } from "../api";
import { EventPicker } from "./EventPicker";
import { TransformationsFields, type Transforms, checkMessage, transformationsBody } from "./TransformationsFields";
import { type SettingValues, SettingsFields, checkValues, initialValues, settingLabel, settingsBody } from "./SettingsFields";

type Step = "partner" | "name" | "details" | "events" | "transformations" | "review";
const STEPS: Step[] = ["partner", "name", "details", "events", "transformations", "review"];

/** Create New Current: partner -> name and contact -> details -> events -> transformations -> review -> Launch Current. */
export function CreateWizard() {
  const { t } = useTranslation();
  const [step, setStep] = useState<Step>("partner");
  const [partner, setPartner] = useState("heap");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [partners, setPartners] = useState<PartnerInfo[]>([]);
  const [values, setValues] = useState<SettingValues>({});
  const [groups, setGroups] = useState<EventTypeGroup[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [transforms, setTransforms] = useState<Transforms>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [check, setCheck] = useState<string>();
  const [ordered, setOrdered] = useState(false);
  const [busy, setBusy] = useState(false);
  useEffect(() => { void api<{ groups: EventTypeGroup[] }>("GET", "/api/v1/event-types").then((r) => setGroups(r.groups)); }, []);
  useEffect(() => {
    void loadPartners().then((ps) => {
      setPartners(ps);
      setValues(initialValues(ps.find((p) => p.id === "heap")));
    });
  }, []);
  const definition = partners.find((p) => p.id === partner);
  const choosePartner = (id: string) => {
    setPartner(id);
    setValues(initialValues(partners.find((p) => p.id === id)));
    setCheck(undefined);
  };
  const validate = (s: Step): Record<string, string> => {
    const e: Record<string, string> = {};
    if (s === "name") {
      if (!name.trim()) e.name = t("wizard.nameMissing");
      if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) e.contactEmail = t("wizard.emailInvalid");
    }
    if (s === "details") Object.assign(e, checkValues(definition, values));
    if (s === "events" && selected.size === 0) e.events = t("wizard.eventsMissing");
    return e;
  };
  const next = () => {
    const e = validate(step);
    setErrors(e);
    if (Object.keys(e).length === 0) setStep(STEPS[STEPS.indexOf(step) + 1] as Step);
  };
  const back = () => setStep(STEPS[STEPS.indexOf(step) - 1] as Step);
  const body = () => ({
    name, partner, contactEmail: email || null,
    settings: settingsBody(definition, values),
    events: [...selected],
    ...(ordered ? { ordering: "per_user" } : {}),
    transformations: transformationsBody(transforms),
  });
  const connectionCheck = async () => {
    setCheck(t("wizard.checking"));
    try {
      const r = await api<{ ok: boolean; status: number | null; latencyMs: number; error?: string }>("POST", `/api/v1/partners/${partner}/check`, { settings: body().settings });
      setCheck(checkMessage(t, r));
    } catch (err) {
      setCheck((err as Error).message);
    }
  };
  const launch = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const created = await api<Current>("POST", "/api/v1/currents", body());
      await api("POST", `/api/v1/currents/${created.id}/launch`);
      location.hash = `#/currents/${created.id}`;
    } catch (err) {
      const field = err instanceof ApiError && err.field ? err.field.replace(/^settings\./, "").replace(/^body\./, "") : "form";
      setErrors({ [field]: (err as Error).message });
      if (definition?.settings.some((s) => field === s.key || field.startsWith(`${s.key}.`))) {
        setErrors({ [field.split(".")[0] as string]: (err as Error).message });
        setStep("details");
      }
    } finally {
      setBusy(false);
    }
  };
  const err = (f: string) => (errors[f] ? <p id={`${f}-error`} role="alert" className="error">{errors[f]}</p> : null);

  return (
    <form className="card wizard" onSubmit={launch} noValidate>
      <h1>{t("wizard.title")}</h1>
      <ol className="steps" aria-label="Steps">{STEPS.map((s) => <li key={s} aria-current={s === step ? "step" : undefined}>{t(`wizard.steps.${s}`)}</li>)}</ol>
      <h2>{t(`wizard.steps.${step}`)}</h2>
      {step === "partner" && (
        <fieldset>
          <legend>{t("wizard.partner")}</legend>
          <div className="partner-cards">
            {partners.map((p) => (
              <label key={p.id} className={`partner-card${partner === p.id ? " chosen" : ""}`}>
                <input type="radio" name="partner" value={p.id} checked={partner === p.id} onChange={() => choosePartner(p.id)} />
                <span className="partner-body">
                  <strong>{partnerTitle(p.id)}</strong>
                  <span className="help">{partnerDescription(p)}</span>
                  <span className="needs">{t("wizard.needs")} {p.settings.filter((x) => x.required).map((x) => settingLabel(x)).join(", ") || t("wizard.needsNothing")}
                    {p.settings.some((x) => !x.required) ? ` · ${t("wizard.optionalCount", { count: p.settings.filter((x) => !x.required).length })}` : ""}</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>
      )}
      {step === "name" && (
        <>
          <label htmlFor="name">{t("wizard.exportName")}</label>
          <input id="name" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!!errors.name} aria-describedby="name-error" />
          {err("name")}
          <label htmlFor="contactEmail">{t("wizard.contactEmail")}</label>
          <input id="contactEmail" type="email" value={email} onChange={(e) => setEmail(e.target.value)} aria-invalid={!!errors.contactEmail} aria-describedby="contactEmail-error" />
          {err("contactEmail")}
        </>
      )}
      {step === "details" && (
        <>
          <label className="choice"><input type="checkbox" checked={ordered} onChange={(e) => setOrdered(e.target.checked)} />{t("wizard.perUser")}</label>
          <p className="help">{t("wizard.perUserHelp")}</p>
          {definition && <SettingsFields partner={definition} values={values} onChange={(v) => { setValues(v); setErrors({}); setCheck(undefined); }} errors={errors} />}
          <button type="button" className="secondary" onClick={() => void connectionCheck()}>{t("wizard.check")}</button>
          {check && <p aria-live="polite">{check}</p>}
        </>
      )}
      {step === "events" && <><EventPicker groups={groups} selected={selected} onChange={setSelected} />{err("events")}</>}
      {step === "transformations" && <TransformationsFields groups={groups} selected={selected} value={transforms} onChange={setTransforms} />}
      {step === "review" && (
        <dl className="review">
          <dt>{t("wizard.partner")}</dt><dd>{partnerTitle(partner)}</dd>
          <dt>{t("wizard.steps.name")}</dt><dd>{name}</dd>
          <dt>{t("wizard.contact")}</dt><dd>{email || "—"}</dd>
          {definition?.settings.map((s) => {
            const v = values[s.key];
            const shown = s.type === "boolean" ? t(v ? "common.yes" : "common.no") : v === "" || v === undefined ? (s.default !== undefined && typeof s.default !== "object" ? `${String(s.default)} (${t("common.default")})` : "—") : s.secret ? `****${String(v).slice(-4)}` : String(v);
            return <Fragment key={s.key}><dt>{settingLabel(s)}</dt><dd>{shown}</dd></Fragment>;
          })}
          <dt>{t("wizard.order")}</dt><dd>{ordered ? t("wizard.perUserShort") : t("wizard.noOrder")}</dd>
          <dt>{t("wizard.events")}</dt><dd>{t("wizard.typesCount", { count: selected.size })}</dd>
          <dt>{t("wizard.transformations")}</dt><dd>{body().transformations.map((x) => `${x.action} ${x.field}`).join(", ") || t("common.none")}</dd>
        </dl>
      )}
      {err("form")}{step === "review" && err("name")}{step === "review" && err("events")}
      <div className="row">
        {step !== "partner" && <button type="button" className="secondary" onClick={back}>{t("common.back")}</button>}
        {/* distinct keys: reusing one element would turn the clicked "Next" into a submit button mid-click */}
        {step !== "review" ? <button key="next" type="button" onClick={next}>{t("common.next")}</button> : <button key="launch" type="submit" disabled={busy}>{t("wizard.launch")}</button>}
      </div>
    </form>
  );
}
