import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { login } from "../api";
import { LanguageSwitch } from "./LanguageSwitch";

export function Login({ onLogin }: { onLogin: (role: string) => void }) {
  const { t } = useTranslation();
  const [token, setToken] = useState("");
  const [error, setError] = useState<string>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      onLogin(await login(token));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <main className="page narrow">
      <div className="row"><h1>Currents</h1><LanguageSwitch /></div>
      <form onSubmit={submit} className="card">
        <label htmlFor="token">{t("login.token")}</label>
        <input id="token" aria-describedby="token-help" type="password" autoComplete="current-password" value={token} onChange={(e) => setToken(e.target.value)} required />
        {error && <p role="alert" className="error">{error}</p>}
        <p className="help" id="token-help">{t("login.where")}</p>
        <button type="submit">{t("login.submit")}</button>
      </form>
    </main>
  );
}
