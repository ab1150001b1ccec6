/** /admin: today's and this week's sessions with their fill and warnings, and the alerts still open. */
import { localTime } from "../format";
import { Layout, type LayoutProps } from "../layout";
import { type ConsoleSession, Flash, percent, SessionTable } from "./parts";

export interface ConsoleAlertRow {
  id: string;
  type: string;
  severity: string;
  status: string;
  title: string;
  occurrences: number;
  createdAt: string;
}

export interface DashboardProps {
  user: LayoutProps["user"];
  /** The zone "today" is counted in. */
  zone: string;
  now: string;
  today: ConsoleSession[];
  week: ConsoleSession[];
  alerts: ConsoleAlertRow[];
  nearFullAt: number;
  lowFill: { below: number; withinHours: number; enabled: boolean };
}

export function DashboardPage(props: DashboardProps) {
  const warnings = props.week.filter((s) => s.nearFull || s.lowFill);
  return (
    <Layout title="Studio dashboard" area="console" user={props.user}>
      <Flash />
      <nav aria-label="Console pages" class="console-links">
        <ul>
          <li><a href="/admin/sessions">Sessions by week</a></li>
          <li><a href="/admin/patterns">Schedule patterns</a></li>
          <li><a href="/admin/bookings">Bookings</a></li>
          <li><a href="/admin/alerts">Alerts</a></li>
          <li><a href="/admin/demand">Demand</a></li>
          <li><a href="/admin/metrics">Metrics</a></li>
        </ul>
      </nav>
      <p>
        As of {localTime(props.now, props.zone)}. Near full means at least {percent(props.nearFullAt)} of seats booked; low fill means under{" "}
        {percent(props.lowFill.below)} booked within {props.lowFill.withinHours} hours of the start
        {props.lowFill.enabled ? "" : " (the low-fill alert rule is switched off)"}.
      </p>
      <section aria-labelledby="warnings-heading">
        <h2 id="warnings-heading">Warnings</h2>
        {warnings.length === 0 ? (
          <p data-testid="no-warnings">No session this week is near full or filling poorly.</p>
        ) : (
          <ul data-testid="fill-warnings">
            {warnings.map((s) => (
              <li data-warning={s.nearFull ? "near-full" : "low-fill"} data-session-id-ref={s.id}>
                <a href={`/admin/sessions/${encodeURIComponent(s.id)}`}>
                  {s.className}, {localTime(s.startsAt, s.timeZone)}
                </a>
                : {s.nearFull ? "near full" : "low fill"}, {percent(s.fill)} booked ({s.seatsBooked}/{s.capacity})
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="today-heading">
        <h2 id="today-heading">Today</h2>
        <SessionTable sessions={props.today} caption="Sessions today" testId="sessions-today" />
      </section>
      <section aria-labelledby="week-heading">
        <h2 id="week-heading">This week</h2>
        <SessionTable sessions={props.week} caption="Sessions in the next 7 days" testId="sessions-week" />
      </section>
      <section aria-labelledby="alerts-heading">
        <h2 id="alerts-heading">Open alerts</h2>
        {props.alerts.length === 0 ? (
          <p data-testid="no-open-alerts">No open alerts.</p>
        ) : (
          <ul data-testid="open-alerts">
            {props.alerts.map((alert) => (
              <li data-alert-id={alert.id}>
                <span class={`badge severity-${alert.severity}`}>{alert.severity}</span> {alert.title} ({alert.status}
                {alert.occurrences > 1 ? `, seen ${alert.occurrences} times` : ""})
              </li>
            ))}
          </ul>
        )}
        <p>
          <a href="/admin/alerts?status=unresolved">All unresolved alerts</a>
        </p>
      </section>
    </Layout>
  );
}
