/**
 * Charts on console pages: each `[data-chart]` element draws the numbers of the table named by
 * `data-chart-table` with uPlot, a small canvas charting library: rows with data-x (a UTC day) and
 * data-y make a time series; rows with data-label and data-y make bars, one per label. The table stays beside it as the accessible, exact form of the same figures.
 */
import uPlot from "uplot";

const HEIGHT = 260;
/** Axis steps for whole numbers (bars count people): no 0.2 ticks. */
const WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 100_000];

/** Bars, one per `data-label` row, in table order. */
function barsOf(table: HTMLTableElement): { labels: string[]; data: [number[], number[]] } {
  const rows = Array.from(table.querySelectorAll<HTMLTableRowElement>("tbody tr[data-label]"));
  return { labels: rows.map((row) => row.dataset.label ?? ""), data: [rows.map((_, i) => i), rows.map((row) => Number(row.dataset.y ?? 0))] };
}

function seriesOf(table: HTMLTableElement): [number[], (number | null)[]] {
  const xs: number[] = [];
  const ys: (number | null)[] = [];
  for (const row of Array.from(table.querySelectorAll<HTMLTableRowElement>("tbody tr[data-x]"))) {
    const x = Date.parse(`${row.dataset.x}T00:00:00Z`);
    if (Number.isNaN(x)) continue;
    xs.push(x / 1000);
    ys.push(row.dataset.y ? Number(row.dataset.y) : null);
  }
  return [xs, ys];
}

export function startConsoleCharts(): void {
  for (const holder of Array.from(document.querySelectorAll<HTMLElement>("[data-chart]"))) {
    const table = document.getElementById(holder.dataset.chartTable ?? "");
    if (!(table instanceof HTMLTableElement)) continue;
    const width = () => Math.max(240, holder.clientWidth);
    const chart = table.querySelector("tbody tr[data-label]") ? barChart(holder, table, width()) : timeChart(holder, table, width());
    if (!chart) continue;
    let pending: number | undefined;
    window.addEventListener("resize", () => {
      window.clearTimeout(pending);
      pending = window.setTimeout(() => chart.setSize({ width: width(), height: HEIGHT }), 150);
    });
  }
}

function barChart(holder: HTMLElement, table: HTMLTableElement, width: number): uPlot | undefined {
  const { labels, data } = barsOf(table);
  if (labels.length === 0) return undefined;
  const short = (label: string) => (label.length > 14 ? `${label.slice(0, 13)}…` : label);
  return new uPlot(
    {
      width,
      height: HEIGHT,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [
        { stroke: "#55565c", splits: () => labels.map((_, i) => i), values: (_u, splits) => splits.map((i) => short(labels[i] ?? "")) },
        { stroke: "#55565c", label: holder.dataset.chartUnit ?? "", incrs: WHOLE_STEPS },
      ],
      series: [{}, { label: holder.dataset.chartUnit ?? "value", stroke: "#0b5cad", fill: "rgba(11, 92, 173, 0.6)", paths: uPlot.paths.bars!({ size: [0.6, 60] }), points: { show: false } }],
    },
    data,
    holder,
  );
}

function timeChart(holder: HTMLElement, table: HTMLTableElement, width: number): uPlot | undefined {
  const data = seriesOf(table);
  if (data[0].length === 0) return undefined;
  // The x axis spans the range asked for (a day or two of figures must not be stretched over a year).
  const from = Date.parse(`${holder.dataset.chartFrom}T00:00:00Z`) / 1000;
  const to = Date.parse(`${holder.dataset.chartTo}T00:00:00Z`) / 1000 + 86_400;
  const range: [number, number] | undefined = Number.isFinite(from) && Number.isFinite(to) && from < to ? [Math.min(from, data[0][0]!), Math.max(to, data[0][data[0].length - 1]!)] : undefined;
  return new uPlot(
    {
      width,
      height: HEIGHT,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: range ? { time: true, range } : { time: true }, y: { range: (_u, min, max) => [Math.min(0, min), Math.max(1, max)] } },
      axes: [{ stroke: "#55565c" }, { stroke: "#55565c", label: holder.dataset.chartUnit ?? "" }],
      series: [{}, { label: holder.dataset.chartUnit ?? "value", stroke: "#0b5cad", width: 2, fill: "rgba(11, 92, 173, 0.12)", points: { show: true, size: 6 }, spanGaps: false }],
    },
    data,
    holder,
  );
}
