import { type FormEvent, useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { ApiError, type PartnerSetting, api, count, dateTime } from "../api";
import { type SettingValues, SettingsFields, checkValues, initialValues, settingsBody } from "./SettingsFields";

interface SourceKind { id: string; title: string; settings: PartnerSetting[]; setup: string[] }
interface Source {
  id: string; kind: string; name: string; workspace: string; webhookUrl: string; setup: string[];
  stats: { requests: number; signatureFailures: number; unmapped: number; lastError: string | null; byType: Record<string, number>; recentUnmapped: Array<{ at: string; providerType: string; excerpt: string }> };
}

const total = (s: Source) => Object.values(s.stats.byType).reduce((a, b) => a + b, 0);

/** Partner Integrations > Sources: provider webhooks (SendGrid, Mailgun, Postmark, Twilio) into Currents. */
export function Sources({ id, readOnly }: { id?: string; readOnly: boolean }) {
  const { t } = useTranslation();
  const [kinds, setKinds] = useState<SourceKind[]>([]);
  const [sources, setSources] = useState<Source[]>([]);
  const [kind, setKind] = useState("sendgrid");
  const [name, setName] = useState("");
  const [values, setValues] = useState<SettingValues>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string>();
  const load = useCallback(() => api<{ sources: Source[] }>("GET", "/api/v1/sources").then((r) => setSources(r.sources), (e: Error) => setError(e.message)), []);
  useEffect(() => {
    void api<{ kinds: SourceKind[] }>("GET", "/api/v1/source-kinds").then((r) => {
      setKinds(r.kinds);
      setValues(initialValues({ id: "sendgrid", title: "", description: "", settings: r.kinds[0]?.settings ?? [] }));
    });
    void load();
    const t = setInterval(() => void load(), 3000);
    return () => clearInterval(t);
  }, [load]);
  const definition = kinds.find((k) => k.id === kind);
  const asPartner = definition && { id: definition.id, title: definition.title, description: "", settings: definition.settings };
  const create = async (e: FormEvent) => {
    e.preventDefault();
    const problems = checkValues(asPartner, values);
    if (!name.trim()) problems.name = t("sources.nameMissing");
    setErrors(problems);
    if (Object.keys(problems).length > 0) return;
    try {
      const s = await api<Source>("POST", "/api/v1/sources", { kind, name, settings: settingsBody(asPartner, values) });
      setName("");
      setValues(initialValues(asPartner));
      await load();
      location.hash = `#/sources/${s.id}`;
    } catch (err) {
      const field = err instanceof ApiError && err.field ? err.field.replace(/^settings\./, "") : "form";
      setErrors({ [field]: (err as Error).message });
    }
  };
  const shown = sources.find((s) => s.id === id);
  return (
    <section>
      <h1>{t("sources.title")}</h1>
      <p>{t("sources.intro")}</p>
      {error && <p role="alert" className="error">{error}</p>}
      <div className="table-scroll"><table>
        <thead><tr><th>{t("sources.name")}</th><th>{t("sources.provider")}</th><th className="num">{t("sources.requests")}</th><th className="num">{t("sources.events")}</th><th className="num">{t("sources.unmapped")}</th><th className="num">{t("sources.signatureFailures")}</th></tr></thead>
        <tbody>{sources.map((s) => (
          <tr key={s.id}><td><a href={`#/sources/${s.id}`}>{s.name}</a></td><td>{kinds.find((k) => k.id === s.kind)?.title ?? s.kind}</td><td className="num">{count(s.stats.requests)}</td><td className="num">{count(total(s))}</td><td className="num">{count(s.stats.unmapped)}</td><td className="num">{count(s.stats.signatureFailures)}</td></tr>
        ))}</tbody>
      </table></div>
      {sources.length === 0 && <p>{t("sources.empty")}</p>}
      {shown && (
        <div className="card" aria-label={t("sources.sourceNamed", { name: shown.name })}>
          <h2>{shown.name}</h2>
          <label htmlFor="webhook-url">{t("sources.webhookUrl")}</label>
          <input id="webhook-url" readOnly value={shown.webhookUrl} onFocus={(e) => e.target.select()} />
          <h3>{t("sources.setUp", { provider: kinds.find((k) => k.id === shown.kind)?.title ?? shown.kind })}</h3>
          <ol>{shown.setup.map((line) => <li key={line}>{line}</li>)}</ol>
          {shown.stats.lastError && <p><strong>{t("sources.lastError")}</strong> {shown.stats.lastError}</p>}
          <h3>{t("sources.produced")}</h3>
          <div className="table-scroll"><table><thead><tr><th>{t("sources.type")}</th><th className="num">{t("sources.events")}</th></tr></thead>
            <tbody>{Object.entries(shown.stats.byType).map(([type, n]) => <tr key={type}><td>{type}</td><td className="num">{count(n)}</td></tr>)}</tbody></table></div>
          <h3>{t("sources.lastUnmapped", { count: shown.stats.unmapped })}</h3>
          <ul aria-label={t("sources.unmappedList")}>{shown.stats.recentUnmapped.slice(0, 20).map((u, i) => <li key={i}>{dateTime(u.at)} · {u.providerType} · <code>{u.excerpt}</code></li>)}</ul>
          {!readOnly && <button type="button" className="danger" onClick={() => {
            if (confirm(t("sources.confirmDelete", { name: shown.name }))) void api("DELETE", `/api/v1/sources/${shown.id}`).then(() => { location.hash = "#/sources"; void load(); }, (e: Error) => setError(e.message));
          }}>{t("sources.delete")}</button>}
        </div>
      )}
      {!readOnly && asPartner && (
        <form className="card" onSubmit={create} noValidate>
          <h2>{t("sources.new")}</h2>
          <label htmlFor="source-kind">{t("sources.provider")}</label>
          <select id="source-kind" value={kind} onChange={(e) => {
            setKind(e.target.value);
            const k = kinds.find((x) => x.id === e.target.value);
            setValues(initialValues(k && { id: k.id, title: k.title, description: "", settings: k.settings }));
            setErrors({});
          }}>{kinds.map((k) => <option key={k.id} value={k.id}>{k.title}</option>)}</select>
          <label htmlFor="source-name">{t("sources.name")}</label>
          <input id="source-name" value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!!errors.name} />
          {errors.name && <p role="alert" className="error">{errors.name}</p>}
          <SettingsFields partner={asPartner} values={values} onChange={(v) => { setValues(v); setErrors({}); }} errors={errors} idPrefix="source-" />
          {errors.form && <p role="alert" className="error">{errors.form}</p>}
          <button type="submit">{t("sources.create")}</button>
        </form>
      )}
    </section>
  );
}
