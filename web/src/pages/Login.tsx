import { type FormEvent, useState } from "react";
import { login } from "../api";

export function Login({ onLogin }: { onLogin: (role: string) => void }) {
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
      <h1>Currents</h1>
      <form onSubmit={submit} className="card">
        <label htmlFor="token">Admin token</label>
        <input id="token" type="password" autoComplete="current-password" value={token} onChange={(e) => setToken(e.target.value)} required />
        {error && <p role="alert" className="error">{error}</p>}
        <button type="submit">Log in</button>
      </form>
    </main>
  );
}
