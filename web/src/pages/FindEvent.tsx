import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { api, count, dateTime, relativeTime } from "../api";
import { type Attempt, AttemptsTable } from "./AttemptsTable";

interface Trace {
  currentId: string; currentName: string; state: "delivered" | "pending" | "dead_lettered" | "before_launch";
  deliveredAt: string | null; pendingSince: string | null; attempts: Attempt[];
  deadLetter: { id: number; reason: string; status: number | null; excerpt: string; at: string } | null;
}
interface Found { seq: number; id: string; type: string; receivedAt: string; event: unknown; currents: Trace[] }
interface Answer { events: Found[]; scannedTo: number; complete: boolean; indexed: boolean; since: string; until: string }

const WINDOWS = { hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 } as const;

/** "Where is event X?": by event id or user id, what each Current did with it. */
export function FindEvent() {
  const { t } = useTranslation();
  const [by, setBy] = useState<"eventId" | "userId">("eventId");
  const [value, setValue] = useState("");
  const [windowKey, setWindowKey] = useState<keyof typeof WINDOWS>("day");
  const [answer, setAnswer] = useState<Answer>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const search = async (after?: number) => {
    setError(undefined); setBusy(true);
    try {
      const since = answer && after !== undefined ? answer.since : new Date(Date.now() - WINDOWS[windowKey]).toISOString();
      const q = new URLSearchParams({ [by]: value.trim(), since, ...(after !== undefined ? { after: String(after), until: answer?.until ?? "" } : {}) });
      const r = await api<Answer>("GET", `/api/v1/events?${q.toString()}`);
      setAnswer((old) => (after !== undefined && old ? { ...r, events: [...old.events, ...r.events] } : r));
    } catch (e) { setError((e as Error).message); } finally { setBusy(false); }
  };
  const submit = (e: FormEvent) => { e.preventDefault(); if (value.trim()) void search(); };
  return (
    <section>
      <h1>{t("find.title")}</h1>
      <p>{t("find.intro")}</p>
      <form className="card find" onSubmit={submit}>
        <fieldset className="row">
          <legend>{t("find.by")}</legend>
          <label><input type="radio" name="by" checked={by === "eventId"} onChange={() => setBy("eventId")} /> {t("find.eventId")}</label>
          <label><input type="radio" name="by" checked={by === "userId"} onChange={() => setBy("userId")} /> {t("find.userId")}</label>
        </fieldset>
        <label htmlFor="find-value">{by === "eventId" ? t("find.eventId") : t("find.userId")}</label>
        <input id="find-value" value={value} onChange={(e) => setValue(e.target.value)} placeholder={by === "eventId" ? "3f2b9c1e-…" : "user-42"} />
        <label htmlFor="find-window">{t("find.window")}</label>
        <select id="find-window" value={windowKey} onChange={(e) => setWindowKey(e.target.value as keyof typeof WINDOWS)}>
          {Object.keys(WINDOWS).map((w) => <option key={w} value={w}>{t(`find.windows.${w}`)}</option>)}
        </select>
        <p className="help">{t("find.windowHelp")}</p>
        <button type="submit" disabled={busy || !value.trim()}>{busy ? t("find.searching") : t("find.search")}</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      {answer && (
        <div aria-live="polite">
          <p data-testid="find-summary">{answer.events.length === 0
            ? (answer.complete ? t("find.none", { since: dateTime(answer.since) }) : t("find.noneYet"))
            : t("find.found", { count: answer.events.length })}</p>
          {answer.events.map((e) => <FoundEvent key={e.seq} e={e} />)}
          {!answer.complete && <button type="button" className="secondary" disabled={busy} onClick={() => void search(answer.scannedTo)}>{t("find.more")}</button>}
        </div>
      )}
    </section>
  );
}

function FoundEvent({ e }: { e: Found }) {
  const { t } = useTranslation();
  return (
    <article className="card found" data-testid="found-event">
      <h2><code>{e.type}</code></h2>
      <p>{t("find.idAndTime", { id: e.id })} <time dateTime={e.receivedAt} title={dateTime(e.receivedAt)}>{relativeTime(e.receivedAt)}</time></p>
      {e.currents.length === 0 && <p className="muted">{t("find.noCurrent")}</p>}
      {e.currents.map((c) => (
        <div key={c.currentId} className="trace" data-testid="trace" data-state={c.state}>
          <h3><a href={`#/currents/${c.currentId}`}>{c.currentName}</a> <span className={`status ${c.state}`}>{t(`find.states.${c.state}`)}</span></h3>
          <p>{c.state === "delivered" ? (c.deliveredAt ? t("find.deliveredAt", { when: relativeTime(c.deliveredAt), tries: count(c.attempts.length) }) : t("find.deliveredNoLog"))
            : c.state === "pending" ? t("find.pendingSince", { when: relativeTime(c.pendingSince), tries: count(c.attempts.length) })
              : c.state === "dead_lettered" ? t("find.deadLettered", { reason: c.deadLetter?.reason ?? "", status: c.deadLetter?.status ?? "—" })
                : t("find.beforeLaunch")}</p>
          {c.deadLetter?.excerpt && <pre className="excerpt">{c.deadLetter.excerpt}</pre>}
          {c.attempts.length > 0 && <AttemptsTable attempts={c.attempts} label={t("find.attemptsOf", { name: c.currentName })} />}
        </div>
      ))}
      <details><summary>{t("find.body")}</summary><pre>{JSON.stringify(e.event, null, 2)}</pre></details>
    </article>
  );
}
