import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useTranslation } from "react-i18next";
import { api } from "../api";

interface Point { at: string; delivered: number; failed: number; p50Ms: number | null; p99Ms: number | null; backlog: number | null; oldestAgeMs: number | null }
interface SeriesSpec { label: string; stroke: string; /** A second unit: drawn against its own axis on the right. */ right?: boolean }

const MIN_SPAN_S = 10 * 60;

/**
 * One chart: the x axis fitted to the minutes that have data (at least 10 minutes, at most the
 * window), one unit per axis (a series marked `right` gets its own), a legend naming the series,
 * and points drawn only where there are too few minutes for a line.
 */
export function Chart({ title, data, series, units, empty, xRange }: {
  title: string; data: uPlot.AlignedData; series: SeriesSpec[]; units: [string, string?]; empty: string;
  /** The x range (seconds) when the caller knows better than "the minutes with data" (a cohort's history of seconds). */
  xRange?: [number, number];
}) {
  const ref = useRef<HTMLDivElement>(null);
  const xs = data[0] as number[];
  const hasData = data.slice(1).some((col) => (col as Array<number | null>).some((v) => v !== null && v !== undefined));
  useEffect(() => {
    if (!ref.current || !hasData) return;
    // The figure's own width (its padding and border taken off), so a phone's narrow screen gets a narrow chart.
    const box = ref.current.parentElement ?? ref.current;
    const width = Math.max(200, Math.min(560, (box.clientWidth || 560) - 16));
    const last = xRange?.[1] ?? xs[xs.length - 1] ?? Date.now() / 1000;
    const first = xRange?.[0] ?? Math.min(xs[0] ?? last, last - MIN_SPAN_S);
    const sparse = xs.length < 4;
    const plot = new uPlot({
      width, height: 190, title,
      // A legend that names the series (with their colours), not "Time: --" values while the pointer is away.
      legend: { live: false },
      series: [{}, ...series.map((s) => ({
        label: s.label, stroke: s.stroke, width: 2, scale: s.right ? "right" : "y",
        points: { show: sparse, size: 6 },
      }))],
      axes: [
        {},
        { size: 56, scale: "y", label: units[0], labelSize: 16 },
        ...(series.some((s) => s.right) ? [{ size: 56, scale: "right", side: 1, grid: { show: false }, label: units[1], labelSize: 16 }] : []),
      ],
      scales: {
        x: { time: true, range: () => [first, last] },
        y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1) * 1.1] },
        right: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1) * 1.1] },
      },
    }, data, ref.current);
    // The x range drawn, for tests and tools (seconds since the epoch).
    ref.current.dataset.xFrom = String(Math.round(first));
    ref.current.dataset.xTo = String(Math.round(last));
    return () => plot.destroy();
  }, [title, data, series, units, hasData, xs, xRange]);
  return (
    <figure className="chart" aria-label={title}>
      {hasData ? <div ref={ref} /> : <><figcaption className="chart-title">{title}</figcaption><p className="muted chart-empty">{empty}</p></>}
    </figure>
  );
}

/**
 * The finished minutes of the window (the minute under way would draw a dip), with minutes
 * without deliveries as 0 for the counts, and gaps (null) for what was not measured.
 */
export function finishedMinutes(points: Point[], now = Date.now()): Point[] {
  const current = Math.floor(now / 60_000) * 60_000;
  const done = points.filter((p) => Date.parse(p.at) < current);
  if (done.length === 0) return [];
  const byMinute = new Map(done.map((p) => [Date.parse(p.at), p]));
  const out: Point[] = [];
  for (let m = Date.parse((done[0] as Point).at); m < current; m += 60_000) {
    out.push(byMinute.get(m) ?? { at: new Date(m).toISOString(), delivered: 0, failed: 0, p50Ms: null, p99Ms: null, backlog: null, oldestAgeMs: null });
  }
  return out;
}

/** Charts over the last hour or day: delivered per minute, batch latency p50/p99, backlog and oldest pending age. */
export function Charts({ id }: { id: string }) {
  const { t } = useTranslation();
  const [window, setWindow] = useState<"hour" | "day">("hour");
  const [points, setPoints] = useState<Point[]>([]);
  const [loaded, setLoaded] = useState(false);
  useEffect(() => {
    let live = true;
    const load = () => api<{ points: Point[] }>("GET", `/api/v1/currents/${id}/series?window=${window}`).then((r) => { if (live) { setPoints(finishedMinutes(r.points)); setLoaded(true); } }, () => undefined);
    void load();
    const timer = setInterval(load, 10_000);
    return () => { live = false; clearInterval(timer); };
  }, [id, window]);
  const x = points.map((p) => Date.parse(p.at) / 1000);
  const col = (f: (p: Point) => number | null) => points.map(f) as Array<number | null>;
  return (
    <section>
      <div className="row">
        <h2>{t("charts.title")}</h2>
        <label className="inline">{t("charts.window")}{" "}
          <select value={window} onChange={(e) => setWindow(e.target.value as "hour" | "day")}><option value="hour">{t("charts.lastHour")}</option><option value="day">{t("charts.lastDay")}</option></select>
        </label>
      </div>
      {loaded && points.length === 0 ? <p className="muted" data-testid="charts-empty">{t("charts.empty")}</p> : (
        <div className="charts">
          <Chart title={t("charts.delivered")} units={[t("charts.eventsUnit"), t("charts.attemptsUnit")]} empty={t("charts.emptyDelivered")}
            data={[x, col((p) => p.delivered), col((p) => p.failed)]}
            series={[{ label: t("charts.deliveredSeries"), stroke: "#2f5bd8" }, { label: t("charts.failedSeries"), stroke: "#b42318", right: true }]} />
          <Chart title={t("charts.latency")} units={["ms"]} empty={t("charts.emptyLatency")}
            data={[x, col((p) => p.p50Ms), col((p) => p.p99Ms)]} series={[{ label: "p50", stroke: "#146c2e" }, { label: "p99", stroke: "#f5a524" }]} />
          <Chart title={t("charts.backlog")} units={[t("charts.eventsUnit"), "s"]} empty={t("charts.emptyBacklog")}
            data={[x, col((p) => p.backlog), col((p) => (p.oldestAgeMs === null ? null : p.oldestAgeMs / 1000))]}
            series={[{ label: t("charts.backlogSeries"), stroke: "#6b3fa0" }, { label: t("charts.oldestSeries"), stroke: "#b42318", right: true }]} />
        </div>
      )}
    </section>
  );
}
