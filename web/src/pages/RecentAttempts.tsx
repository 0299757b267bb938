import { useCallback, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { api } from "../api";
import { type Attempt, AttemptsTable } from "./AttemptsTable";

const PAGE = 20;
const WINDOWS = { all: 0, hour: 3_600_000, day: 86_400_000 } as const;

/** A Current's attempts from the attempt log (7 days): filtered by outcome and time, a page at a time; the first page refreshes itself. */
export function RecentAttempts({ id, draft }: { id: string; draft: boolean }) {
  const { t } = useTranslation();
  const [outcome, setOutcome] = useState("");
  const [windowKey, setWindowKey] = useState<keyof typeof WINDOWS>("all");
  const [pages, setPages] = useState<Attempt[][]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string>();
  const query = useCallback((before?: string) => {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (outcome) q.set("outcome", outcome);
    if (WINDOWS[windowKey]) q.set("since", new Date(Date.now() - WINDOWS[windowKey]).toISOString());
    if (before) q.set("before", before);
    return api<{ attempts: Attempt[]; next: string | null }>("GET", `/api/v1/currents/${id}/attempts?${q.toString()}`);
  }, [id, outcome, windowKey]);
  const first = useCallback(async () => {
    try {
      const r = await query();
      setPages((old) => (old.length > 1 ? old : [r.attempts]));
      setNext((old) => (pages.length > 1 ? old : r.next));
    } catch (e) { setError((e as Error).message); }
  }, [query, pages.length]);
  useEffect(() => { setPages([]); }, [query]);
  useEffect(() => {
    void first();
    const timer = setInterval(() => void first(), 3000);
    return () => clearInterval(timer);
  }, [first]);
  const older = async () => {
    if (!next) return;
    const r = await query(next);
    setPages((old) => [...old, r.attempts]);
    setNext(r.next);
  };
  const attempts = pages.flat();
  return (
    <div className="attempts-section">
      <h2>{t("current.recentAttempts")}</h2>
      {draft ? <p className="muted">{t("attempts.draft")}</p> : (
        <>
          <div className="row filters">
            <label>{t("attempts.outcome")} <select value={outcome} onChange={(e) => setOutcome(e.target.value)} aria-label={t("attempts.outcome")}>
              <option value="">{t("attempts.all")}</option><option value="delivered">{t("attempts.delivered")}</option><option value="failed">{t("attempts.failed")}</option>
            </select></label>
            <label>{t("attempts.when")} <select value={windowKey} onChange={(e) => setWindowKey(e.target.value as keyof typeof WINDOWS)} aria-label={t("attempts.when")}>
              {Object.keys(WINDOWS).map((w) => <option key={w} value={w}>{t(`attempts.windows.${w}`)}</option>)}
            </select></label>
          </div>
          {error && <p role="alert" className="error">{error}</p>}
          {attempts.length === 0 ? <p className="muted">{outcome || windowKey !== "all" ? t("attempts.noneMatch") : t("attempts.none")}</p>
            : <AttemptsTable attempts={attempts} label={t("current.recentAttempts")} />}
          {next && <button type="button" className="secondary" onClick={() => void older()}>{t("attempts.older")}</button>}
          <p className="help">{t("attempts.kept")}</p>
        </>
      )}
    </div>
  );
}
