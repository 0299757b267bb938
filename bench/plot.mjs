// Plots bench/results/latest.json with Vega-Lite, rendered headless to SVG (no browser, no canvas):
// freshness (p50 and p99 by rate, the 50 ms goal drawn) and throughput by scenario.
// `npm run bench -- --plot` runs it after the bench; `node bench/plot.mjs` plots the last results.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as vega from "vega";
import * as vl from "vega-lite";

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), "results");

async function svgOf(spec) {
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
  return view.toSVG();
}

export async function plot(file = join(RESULTS, "latest.json")) {
  const results = JSON.parse(readFileSync(file, "utf8"));
  const fresh = [];
  for (const r of results.rows) {
    const m = /^freshness at (\d+) events\/s: (p50|p99) ms$/.exec(r.name);
    if (m) fresh.push({ rate: Number(m[1]), percentile: m[2], ms: Math.max(0.1, r.median) });
  }
  const throughput = results.rows
    .filter((r) => r.unit === "events/s")
    .map((r) => ({ scenario: r.name.replace(/, events\/s$| events\/s$/, "").replace(/: end to end$/, ""), rate: r.median }));
  const machine = `${results.machine.cpus} x ${results.machine.cpuModel}, Node ${results.machine.node}, ${results.machine.date.slice(0, 10)}`;
  const written = [];
  if (fresh.length > 0) {
    const svg = await svgOf({
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      title: { text: "Freshness: acknowledgement to arrival", subtitle: machine },
      width: 420, height: 260,
      layer: [
        {
          data: { values: fresh },
          mark: { type: "line", point: true },
          encoding: {
            x: { field: "rate", type: "quantitative", scale: { type: "log" }, title: "events/s (log)" },
            y: { field: "ms", type: "quantitative", scale: { type: "log" }, title: "ms (log)" },
            color: { field: "percentile", type: "nominal", title: null },
          },
        },
        { data: { values: [{ goal: 50 }] }, mark: { type: "rule", strokeDash: [6, 4], color: "#b42318" }, encoding: { y: { field: "goal", type: "quantitative" } } },
        { data: { values: [{ goal: 50, label: "goal: p99 <= 50 ms" }] }, mark: { type: "text", align: "left", dx: 4, dy: -6, color: "#b42318" }, encoding: { y: { field: "goal", type: "quantitative" }, x: { value: 0 }, text: { field: "label" } } },
      ],
    });
    writeFileSync(join(RESULTS, "freshness.svg"), svg);
    written.push("bench/results/freshness.svg");
  }
  if (throughput.length > 0) {
    const svg = await svgOf({
      $schema: "https://vega.github.io/schema/vega-lite/v5.json",
      title: { text: "Throughput by scenario (median)", subtitle: machine },
      width: 420, height: { step: 22 },
      data: { values: throughput },
      mark: "bar",
      encoding: {
        y: { field: "scenario", type: "nominal", sort: "-x", title: null, axis: { labelLimit: 560 } },
        x: { field: "rate", type: "quantitative", title: "events/s" },
      },
    });
    writeFileSync(join(RESULTS, "throughput.svg"), svg);
    written.push("bench/results/throughput.svg");
  }
  return written;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log((await plot(process.argv[2])).join("\n") || "nothing to plot");
