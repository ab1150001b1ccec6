/**
 * /admin/metrics: one metric over days or weeks, as a chart (drawn in the browser by
 * src/client/console-chart.ts from the table's own numbers) with the numbers in a table beside it,
 * so the figures are there without script and for screen readers.
 */
import { pounds } from "../format";
import { Layout, type LayoutProps } from "../layout";
import { Options, ScrollRegion } from "./parts";

export interface MetricsPageProps {
  user: LayoutProps["user"];
  metrics: { name: string; description: string }[];
  form: { metric: string; granularity: string; from: string; to: string };
  kind: "count" | "pence" | "rate";
  description: string;
  points: { periodStart: string; value: number; denominator: number | null; rate: number | null }[];
  problem: string | null;
}

/** The figure as a person reads it, and as the chart plots it. */
function figure(kind: MetricsPageProps["kind"], point: MetricsPageProps["points"][number]): { text: string; plotted: number | null } {
  if (kind === "pence") return { text: pounds(point.value), plotted: point.value / 100 };
  if (kind === "rate") return point.rate === null ? { text: "—", plotted: null } : { text: `${(point.rate * 100).toFixed(1)} % (${point.value}/${point.denominator})`, plotted: point.rate * 100 };
  return { text: String(point.value), plotted: point.value };
}

export function MetricsPage(props: MetricsPageProps) {
  const { form } = props;
  const unit = props.kind === "pence" ? "£" : props.kind === "rate" ? "%" : "count";
  return (
    <Layout title="Metrics" area="console" user={props.user}>
      <form method="get" action="/admin/metrics" class="filters" id="metric-form">
        <div class="field">
          <label for="metric-name">Metric</label>
          <select id="metric-name" name="metric">
            <Options choices={props.metrics.map((m) => ({ value: m.name, label: m.name }))} selected={form.metric} />
          </select>
        </div>
        <div class="field">
          <label for="metric-granularity">Periods</label>
          <select id="metric-granularity" name="granularity">
            <Options choices={[{ value: "daily", label: "Days" }, { value: "weekly", label: "Weeks" }]} selected={form.granularity} />
          </select>
        </div>
        <div class="field">
          <label for="metric-from">From (UTC day)</label>
          <input id="metric-from" name="from" type="date" value={form.from} />
        </div>
        <div class="field">
          <label for="metric-to">To (UTC day)</label>
          <input id="metric-to" name="to" type="date" value={form.to} />
        </div>
        <button type="submit">Show</button>
      </form>
      {props.problem ? (
        <p class="error" role="alert" data-testid="metric-problem">
          {props.problem}
        </p>
      ) : (
        <section aria-labelledby="metric-heading">
          <h2 id="metric-heading">{form.metric}</h2>
          <p>{props.description}</p>
          {props.points.length === 0 ? (
            <p data-testid="no-metrics">No rolled-up figures in this range yet (days are rolled up after they end).</p>
          ) : (
            <div class="chart-and-table">
              <div class="chart" data-chart="console-metric" data-chart-table="metric-table" data-chart-unit={unit} data-chart-from={form.from} data-chart-to={form.to} aria-hidden="true"></div>
              <ScrollRegion label="Metric figures">
                <table id="metric-table" data-testid="metric-table">
                  <caption>
                    {form.metric} per {form.granularity === "weekly" ? "week (starting Monday)" : "day"}, UTC
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">{form.granularity === "weekly" ? "Week of" : "Day"}</th>
                      <th scope="col">Value</th>
                    </tr>
                  </thead>
                  <tbody>
                    {props.points.map((point) => {
                      const { text, plotted } = figure(props.kind, point);
                      return (
                        <tr data-x={point.periodStart} data-y={plotted === null ? "" : String(plotted)}>
                          <td>{point.periodStart}</td>
                          <td>{text}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </ScrollRegion>
            </div>
          )}
        </section>
      )}
    </Layout>
  );
}
