import { type FormEvent, useEffect, useMemo, useState } from "react";
import { ApiError, type Current, type EventTypeGroup, api, partnerTitle } from "../api";
import { EventPicker } from "./EventPicker";

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
  const [endpoint, setEndpoint] = useState("");
  const [token, setToken] = useState("");
  const [groups, setGroups] = useState<EventTypeGroup[]>([]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [transforms, setTransforms] = useState<Record<string, "remove" | "hash" | "">>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [check, setCheck] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => { void api<{ groups: EventTypeGroup[] }>("GET", "/api/v1/event-types").then((r) => setGroups(r.groups)); }, []);
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
    if (s === "details") {
      try {
        const u = new URL(endpoint);
        if (!/^https?:$/.test(u.protocol)) e.endpoint = "The endpoint must start with https://";
      } catch { e.endpoint = "Enter the full endpoint URL, starting with https://"; }
    }
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
    settings: { endpoint, ...(token ? { bearerToken: token } : {}) },
    events: [...selected],
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
      if (field === "endpoint" || field === "bearerToken") setStep("details");
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
          {["heap", "custom_http"].map((p) => (
            <label key={p} className="choice"><input type="radio" name="partner" value={p} checked={partner === p} onChange={() => setPartner(p)} />{partnerTitle(p)}</label>
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
          <label htmlFor="endpoint">Endpoint URL</label>
          <input id="endpoint" type="url" value={endpoint} onChange={(e) => setEndpoint(e.target.value)} placeholder="https://…" aria-invalid={!!errors.endpoint} aria-describedby="endpoint-error" />
          {err("endpoint")}
          <label htmlFor="bearerToken">Bearer token (optional)</label>
          <input id="bearerToken" type="password" autoComplete="off" value={token} onChange={(e) => setToken(e.target.value)} />
          {err("bearerToken")}
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
          <dt>Partner</dt><dd>{partnerTitle(partner)}</dd>
          <dt>Name</dt><dd>{name}</dd>
          <dt>Contact</dt><dd>{email || "—"}</dd>
          <dt>Endpoint</dt><dd>{endpoint}</dd>
          <dt>Bearer token</dt><dd>{token ? `****${token.slice(-4)}` : "none"}</dd>
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
