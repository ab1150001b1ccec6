/**
 * /admin/patterns: the schedule patterns, each with Preview (its occurrences, writes nothing) and
 * Generate sessions (admins; the regeneration report: created, updated, removed, what was left
 * alone and why). Both call the pattern routes; src/client/console-patterns.ts shows the answers.
 */
import { Layout, type LayoutProps } from "../layout";
import { Flash } from "./parts";

export interface PatternRow {
  id: string;
  className: string;
  rrule: string;
  startDate: string;
  startTime: string;
  durationMinutes: number;
  maxStudents: number;
  timeZone: string;
  exceptionDates: string[];
}

export function PatternsPage({ user, patterns, isAdmin }: { user: LayoutProps["user"]; patterns: PatternRow[]; isAdmin: boolean }) {
  return (
    <Layout title="Schedule patterns" area="console" user={user}>
      <Flash />
      <p>
        <a href="/admin/sessions">Back to sessions</a>
      </p>
      {patterns.length === 0 ? (
        <p data-testid="no-patterns">No schedule patterns yet.</p>
      ) : (
        <ul class="patterns" data-testid="patterns">
          {patterns.map((p) => (
            <li class="pattern" data-pattern-id={p.id} data-time-zone={p.timeZone}>
              <h2>{p.className}</h2>
              <p>
                From {p.startDate} at {p.startTime} ({p.timeZone}), {p.durationMinutes} minutes, up to {p.maxStudents} students.
                <br />
                <code class="rrule">{p.rrule}</code>
                {p.exceptionDates.length > 0 ? (
                  <>
                    <br />
                    Not on: {p.exceptionDates.join(", ")}
                  </>
                ) : null}
              </p>
              <p class="actions">
                <button type="button" class="secondary" data-pattern-action="preview" data-url={`/api/v1/admin/schedule-patterns/${encodeURIComponent(p.id)}/preview`}>
                  Preview occurrences
                </button>
                <button type="button" data-pattern-action="generate" data-url={`/api/v1/admin/schedule-patterns/${encodeURIComponent(p.id)}/generate-sessions`}>
                  Generate sessions{isAdmin ? "" : " (admins only)"}
                </button>
              </p>
              <div class="pattern-output" data-pattern-output aria-live="polite"></div>
            </li>
          ))}
        </ul>
      )}
    </Layout>
  );
}
