/** /admin/alerts: alerts filtered by status, severity and type, with acknowledge and resolve buttons. */
import { localTime } from "../format";
import { Layout, type LayoutProps } from "../layout";
import type { ConsoleAlertRow } from "./dashboard";
import { Flash, Options, ScrollRegion } from "./parts";

export interface AlertsPageProps {
  user: LayoutProps["user"];
  zone: string;
  filter: { status?: string | undefined; severity?: string | undefined; type?: string | undefined };
  statuses: readonly string[];
  severities: readonly string[];
  alerts: ConsoleAlertRow[];
  /** Query string of the next (older) page, when there is one. */
  nextPage: string | null;
  /** Resolving is for admins (the API refuses staff); staff are told so beside the button. */
  canResolve: boolean;
}

export function AlertsPage(props: AlertsPageProps) {
  const { filter } = props;
  return (
    <Layout title="Alerts" area="console" user={props.user}>
      <Flash />
      <form method="get" action="/admin/alerts" class="filters" id="alert-filters">
        <div class="field">
          <label for="alert-status">Status</label>
          <select id="alert-status" name="status">
            <Options choices={[{ value: "", label: "Any" }, { value: "unresolved", label: "Unresolved" }, ...props.statuses.map((s) => ({ value: s, label: s }))]} selected={filter.status} />
          </select>
        </div>
        <div class="field">
          <label for="alert-severity">Severity</label>
          <select id="alert-severity" name="severity">
            <Options choices={[{ value: "", label: "Any" }, ...props.severities.map((s) => ({ value: s, label: s }))]} selected={filter.severity} />
          </select>
        </div>
        <div class="field">
          <label for="alert-type">Type</label>
          <input id="alert-type" name="type" type="text" value={filter.type ?? ""} placeholder="e.g. LOW_FILL" maxlength={100} />
        </div>
        <button type="submit">Filter</button>
      </form>
      {props.alerts.length === 0 ? (
        <p data-testid="no-alerts">No alerts match.</p>
      ) : (
        <ScrollRegion label="Alerts">
          <table data-testid="alerts-table">
            <caption>Alerts, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Raised</th>
                <th scope="col">Severity</th>
                <th scope="col">Type</th>
                <th scope="col">Alert</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {props.alerts.map((alert) => (
                <tr data-alert-id={alert.id} data-alert-status={alert.status}>
                  <td>{localTime(alert.createdAt, props.zone)}</td>
                  <td>
                    <span class={`badge severity-${alert.severity}`}>{alert.severity}</span>
                  </td>
                  <td>{alert.type}</td>
                  <td>
                    {alert.title}
                    {alert.occurrences > 1 ? ` (seen ${alert.occurrences} times)` : ""}
                  </td>
                  <td>{alert.status}</td>
                  <td class="actions">
                    {alert.status === "open" ? (
                      <button type="button" data-api-action data-method="POST" data-url={`/api/v1/admin/alerts/${encodeURIComponent(alert.id)}/acknowledge`} data-done="Alert acknowledged." data-testid="acknowledge">
                        Acknowledge
                      </button>
                    ) : null}
                    {alert.status !== "resolved" ? (
                      <button type="button" data-api-action data-method="POST" data-url={`/api/v1/admin/alerts/${encodeURIComponent(alert.id)}/resolve`} data-done="Alert resolved." data-testid="resolve">
                        Resolve{props.canResolve ? "" : " (admins only)"}
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      {props.nextPage ? (
        <p>
          <a href={`/admin/alerts?${props.nextPage}`} rel="next">
            Older alerts
          </a>
        </p>
      ) : null}
    </Layout>
  );
}
