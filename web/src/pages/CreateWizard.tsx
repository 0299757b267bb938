import { type FormEvent, Fragment, useEffect, useMemo, useState } from "react";
import { ApiError, type Current, type EventTypeGroup, type PartnerInfo, api, loadPartners } from "../api";
import { EventPicker } from "./EventPicker";
import { type SettingValues, SettingsFields, checkValues, initialValues, settingsBody } from "./SettingsFields";

type Step = "partner" | "name" | "details" | "events" | "transformations" | "review";
const STEPS: Step[] = ["partner", "name", "details", "events", "transformations", "review"];
const TITLES: Record<Step, string> = {
  partner: "Choose a partner", name: "Name", details: "Current Details", events: "Events", transformations: "Field transformations", review: "Review",
};

/** Create New Current: partner -> name and contact -> details -> events -> transformations -> review -> Launch Current. */
export function CreateWizard() {
  const [step, setStep] = useState<Step>("partner");
  const [partner, setPartner] = useState("heap");
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [partners, setPartners] = useState<PartnerInfo[]>([]);
  const [values, setValues] = useState<SettingValues>({});
  const [groups, setGroups] = useState<EventTypeGroup[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [transforms, setTransforms] = useState<Record<string, "remove" | "hash" | "">>({});
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
  const piiFields = useMemo(() => {
    const f = new Set<string>();
    for (const g of groups) for (const t of g.eventTypes) if (selected.has(t.type)) for (const p of t.piiFields) f.add(p);
    return [...f].sort();
  }, [groups, selected]);

  const validate = (s: Step): Record<string, string> => {
    const e: Record<string, string> = {};
    if (s === "name") {
      if (!name.trim()) e.name = "Give the export a name.";
      if (email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) e.contactEmail = "This is not an email address.";
    }
    if (s === "details") Object.assign(e, checkValues(definition, values));
    if (s === "events" && selected.size === 0) e.events = "Select at least one event type.";
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
    transformations: Object.entries(transforms).filter(([, a]) => a).map(([field, action]) => ({ field, action })),
  });
  const connectionCheck = async () => {
    setCheck("Checking…");
    try {
      const r = await api<{ ok: boolean; status: number | null; latencyMs: number; error?: string }>("POST", `/api/v1/partners/${partner}/check`, { settings: body().settings });
      setCheck(r.ok ? `Connected: HTTP ${r.status} in ${Math.round(r.latencyMs)} ms.` : r.status === 401 || r.status === 403 ? `The partner refused the credentials (HTTP ${r.status}).` : `The check failed: ${r.error ?? `HTTP ${r.status}`}.`);
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
      <h1>Create New Current</h1>
      <ol className="steps" aria-label="Steps">{STEPS.map((s) => <li key={s} aria-current={s === step ? "step" : undefined}>{TITLES[s]}</li>)}</ol>
      <h2>{TITLES[step]}</h2>
      {step === "partner" && (
        <fieldset>
          <legend>Partner</legend>
          {partners.map((p) => (
            <label key={p.id} className="choice partner-choice">
              <input type="radio" name="partner" value={p.id} checked={partner === p.id} onChange={() => choosePartner(p.id)} />
              <span><strong>{p.title}</strong><span className="help">{p.description}</span></span>
            </label>
          ))}
        </fieldset>
      )}
      {step === "name" && (
        <>
          <label htmlFor="name">Export name</label>
          <input id="name" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!!errors.name} aria-describedby="name-error" />
          {err("name")}
          <label htmlFor="contactEmail">Contact email (for error notices)</label>
          <input id="contactEmail" type="email" value={email} onChange={(e) => setEmail(e.target.value)} aria-invalid={!!errors.contactEmail} aria-describedby="contactEmail-error" />
          {err("contactEmail")}
        </>
      )}
      {step === "details" && (
        <>
          <label className="choice"><input type="checkbox" checked={ordered} onChange={(e) => setOrdered(e.target.checked)} />Keep each user's events in order (per-user order)</label>
          <p className="help">Each user's events reach the partner in the order they were accepted, across retries and restarts; users are spread over 32 lanes that run side by side.</p>
          {definition && <SettingsFields partner={definition} values={values} onChange={(v) => { setValues(v); setErrors({}); setCheck(undefined); }} errors={errors} />}
          <button type="button" className="secondary" onClick={() => void connectionCheck()}>Check connection</button>
          {check && <p aria-live="polite">{check}</p>}
        </>
      )}
      {step === "events" && <><EventPicker groups={groups} selected={selected} onChange={setSelected} />{err("events")}</>}
      {step === "transformations" && (
        <fieldset>
          <legend>Personal data fields in the selected events</legend>
          {piiFields.length === 0 && <p>The selected events carry no personal data fields.</p>}
          {piiFields.map((f) => (
            <label key={f} className="inline transform">
              <span>{f}</span>
              <select aria-label={`Transformation for ${f}`} value={transforms[f] ?? ""} onChange={(e) => setTransforms({ ...transforms, [f]: e.target.value as "remove" | "hash" | "" })}>
                <option value="">Keep</option><option value="remove">Remove</option><option value="hash">Hash (SHA-256)</option>
              </select>
            </label>
          ))}
        </fieldset>
      )}
      {step === "review" && (
        <dl className="review">
          <dt>Partner</dt><dd>{definition?.title ?? partner}</dd>
          <dt>Name</dt><dd>{name}</dd>
          <dt>Contact</dt><dd>{email || "—"}</dd>
          {definition?.settings.map((s) => {
            const v = values[s.key];
            const shown = s.type === "boolean" ? (v ? "yes" : "no") : v === "" || v === undefined ? (s.default !== undefined && typeof s.default !== "object" ? `${String(s.default)} (default)` : "—") : s.secret ? `****${String(v).slice(-4)}` : String(v);
            return <Fragment key={s.key}><dt>{s.label}</dt><dd>{shown}</dd></Fragment>;
          })}
          <dt>Order</dt><dd>{ordered ? "per user" : "none (fastest)"}</dd>
          <dt>Events</dt><dd>{selected.size} types</dd>
          <dt>Transformations</dt><dd>{body().transformations.map((t) => `${t.action} ${t.field}`).join(", ") || "none"}</dd>
        </dl>
      )}
      {err("form")}{step === "review" && err("name")}{step === "review" && err("events")}
      <div className="row">
        {step !== "partner" && <button type="button" className="secondary" onClick={back}>Back</button>}
        {/* distinct keys: reusing one element would turn the clicked "Next" into a submit button mid-click */}
        {step !== "review" ? <button key="next" type="button" onClick={next}>Next</button> : <button key="launch" type="submit" disabled={busy}>Launch Current</button>}
      </div>
    </form>
  );
}
