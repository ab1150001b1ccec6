/** /admin/sessions: a week of sessions, day by day, each with its instructor and fill. */
import { localTime } from "../format";
import { Layout, type LayoutProps } from "../layout";
import { type ConsoleSession, Fill, Flags } from "./parts";

export interface SessionsWeekProps {
  user: LayoutProps["user"];
  zone: string;
  /** "Mon 30 Nov 2026" … for the heading. */
  weekLabel: string;
  days: { date: string; label: string; sessions: ConsoleSession[] }[];
  previousWeek: string;
  nextWeek: string;
}

export function SessionsWeekPage(props: SessionsWeekProps) {
  return (
    <Layout title="Sessions" area="console" user={props.user}>
      <nav class="week-nav" aria-label="Weeks">
        <a href={`/admin/sessions?week=${props.previousWeek}`} rel="prev" id="previous-week">
          Previous week
        </a>
        <span data-testid="week-label">Week of {props.weekLabel}</span>
        <a href={`/admin/sessions?week=${props.nextWeek}`} rel="next" id="next-week">
          Next week
        </a>
      </nav>
      <form method="get" action="/admin/sessions" class="filters">
        <div class="field">
          <label for="week-start">Week containing</label>
          <input id="week-start" name="week" type="date" />
        </div>
        <button type="submit">Show week</button>
      </form>
      <p>
        Days are counted in {props.zone} time; each session shows its studio's time. <a href="/admin/patterns">Schedule patterns</a>
      </p>
      <div class="week" data-testid="sessions-week">
        {props.days.map((day) => (
          <section class="day" aria-labelledby={`day-${day.date}`} data-day={day.date}>
            <h2 id={`day-${day.date}`}>{day.label}</h2>
            {day.sessions.length === 0 ? (
              <p class="muted">No sessions.</p>
            ) : (
              <ul class="day-sessions">
                {day.sessions.map((s) => (
                  <li data-testid="session-card" data-session-row={s.id}>
                    <a href={`/admin/sessions/${encodeURIComponent(s.id)}`}>
                      {localTime(s.startsAt, s.timeZone)} · {s.className}
                    </a>
                    <br />
                    Instructor: {s.instructor ?? "none assigned"}
                    <br />
                    <Fill session={s} /> <Flags session={s} />
                  </li>
                ))}
              </ul>
            )}
          </section>
        ))}
      </div>
    </Layout>
  );
}
