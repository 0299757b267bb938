import { useTranslation } from "react-i18next";
import { dateTime, relativeTime } from "../api";

export interface Attempt {
  id: number; at: string; events: number; status: number | null; latencyMs: number; outcome: string; error: string | null;
  attempt: number; firstSeq: number; lastSeq: number; excerpt: string;
}

/** Attempts as a table that scrolls sideways on a phone (with a cue), the partner's answer on hover and below the error. */
export function AttemptsTable({ attempts, label }: { attempts: Attempt[]; label: string }) {
  const { t } = useTranslation();
  return (
    <>
    <div className="table-scroll" tabIndex={0} aria-label={label}>
      <table className="attempts">
        <thead><tr><th>{t("current.time")}</th><th className="num">{t("attempts.try")}</th><th className="num">{t("current.events")}</th><th className="num">{t("current.status")}</th><th className="num">{t("current.latency")}</th><th>{t("current.outcome")}</th><th>{t("attempts.answer")}</th></tr></thead>
        <tbody>{attempts.map((a) => (
          <tr key={a.id} data-outcome={a.outcome}>
            <td><time dateTime={a.at} title={dateTime(a.at)}>{relativeTime(a.at)}</time></td>
            <td className="num">{a.attempt}</td><td className="num">{a.events}</td><td className="num">{a.status ?? "—"}</td>
            <td className="num">{Math.round(a.latencyMs)} ms</td>
            <td><span className={`outcome ${a.outcome === "delivered" ? "ok" : "bad"}`}>{t(`attempts.outcomes.${a.outcome.split(":")[0]}`, { defaultValue: a.outcome })}</span></td>
            <td className="answer">{a.error && <div>{a.error}</div>}{a.excerpt && !(a.error ?? "").includes(a.excerpt) && <code title={a.excerpt}>{a.excerpt.length > 120 ? `${a.excerpt.slice(0, 117)}…` : a.excerpt}</code>}</td>
          </tr>))}
        </tbody>
      </table>
    </div>
    <p className="scroll-cue">{t("common.scrollCue")}</p>
    </>
  );
}
