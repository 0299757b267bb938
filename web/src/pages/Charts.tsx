import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useTranslation } from "react-i18next";
import { api } from "../api";

interface Point { at: string; delivered: number; failed: number; p50Ms: number | null; p99Ms: number | null; backlog: number | null; oldestAgeMs: number | null }

export function Chart({ title, data, series, spanSeconds }: { title: string; data: uPlot.AlignedData; series: Array<{ label: string; stroke: string }>; spanSeconds: number }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    // The figure's own width (its padding and border taken off), so a phone's narrow screen gets a narrow chart.
    const box = ref.current.parentElement ?? ref.current;
    const width = Math.max(200, Math.min(560, (box.clientWidth || 560) - 16));
    const plot = new uPlot({
      width, height: 180, title,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: true, points: { show: true, size: 5 } }))],
      axes: [{}, { size: 60 }],
      // The x axis always shows the whole window, however few minutes have data.
      scales: { x: { time: true, range: () => { const now = Date.now() / 1000; return [now - spanSeconds, now]; } }, y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1) * 1.1] } },
    }, data, ref.current);
    return () => plot.destroy();
  }, [title, data, series, spanSeconds]);
  return <figure className="chart" aria-label={title}><div ref={ref} /></figure>;
}

/** Charts over the last hour or day: delivered per minute, batch latency p50/p99, backlog and oldest pending age. */
export function Charts({ id }: { id: string }) {
  const { t } = useTranslation();
  const [window, setWindow] = useState<"hour" | "day">("hour");
  const [points, setPoints] = useState<Point[]>([]);
  useEffect(() => {
    let live = true;
    const load = () => api<{ points: Point[] }>("GET", `/api/v1/currents/${id}/series?window=${window}`).then((r) => live && setPoints(r.points), () => undefined);
    void load();
    const t = setInterval(load, 10_000);
    return () => { live = false; clearInterval(t); };
  }, [id, window]);
  const x = points.map((p) => Date.parse(p.at) / 1000);
  const span = window === "day" ? 86_400 : 3_600;
  const col = (f: (p: Point) => number | null) => points.map(f) as Array<number | null>;
  return (
    <section>
      <div className="row">
        <h2>{t("charts.title")}</h2>
        <label className="inline">{t("charts.window")}{" "}
          <select value={window} onChange={(e) => setWindow(e.target.value as "hour" | "day")}><option value="hour">{t("charts.lastHour")}</option><option value="day">{t("charts.lastDay")}</option></select>
        </label>
      </div>
      {points.length === 0 ? <p>{t("charts.empty")}</p> : (
        <div className="charts">
          <Chart title={t("charts.delivered")} data={[x, col((p) => p.delivered), col((p) => p.failed)]} series={[{ label: t("charts.deliveredSeries"), stroke: "#2f5bd8" }, { label: t("charts.failedSeries"), stroke: "#b42318" }]} spanSeconds={span} />
          <Chart title={t("charts.latency")} data={[x, col((p) => p.p50Ms), col((p) => p.p99Ms)]} series={[{ label: "p50", stroke: "#146c2e" }, { label: "p99", stroke: "#f5a524" }]} spanSeconds={span} />
          <Chart title={t("charts.backlog")} data={[x, col((p) => p.backlog), col((p) => (p.oldestAgeMs === null ? null : p.oldestAgeMs / 1000))]} series={[{ label: t("charts.backlogSeries"), stroke: "#6b3fa0" }, { label: t("charts.oldestSeries"), stroke: "#b42318" }]} spanSeconds={span} />
        </div>
      )}
    </section>
  );
}
