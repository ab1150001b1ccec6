/**
 * Pieces the console pages share: the flash region the client writes results into, a session's fill
 * (a native <meter>, so no inline style is needed), and the row types the routes hand the pages.
 */
import { seatsLeftText } from "../../domain/seats-left";
import { localTime } from "../format";
import type { Child } from "hono/jsx";

/** A session as the console lists it (from the D1 projection: booked = seats on confirmed bookings). */
export interface ConsoleSession {
  id: string;
  classId: string;
  className: string;
  status: string;
  startsAt: string;
  endsAt: string;
  timeZone: string;
  capacity: number;
  seatsBooked: number;
  instructor: string | null;
  /** Booked share of capacity, 0–1. */
  fill: number;
  nearFull: boolean;
  lowFill: boolean;
}

/**
 * Where the browser bundle reports what an action did (src/client/console-actions.ts); it also
 * shows a result carried over a reload.
 */
export function Flash() {
  return <div id="console-flash" class="console-flash" role="status" aria-live="polite" data-console-flash></div>;
}

export function percent(share: number): string {
  return `${Math.round(share * 100)} %`;
}

/** Booked / capacity with a meter; seats left carry the live-seat data attributes. */
export function Fill({ session }: { session: ConsoleSession }) {
  const left = Math.max(0, session.capacity - session.seatsBooked);
  return (
    <span class="fill">
      <meter min={0} max={session.capacity} low={Math.ceil(session.capacity * 0.3)} high={Math.ceil(session.capacity * 0.8)} optimum={session.capacity * 0.6} value={session.seatsBooked}>
        {percent(session.fill)}
      </meter>{" "}
      <span data-testid="fill-percent">{percent(session.fill)}</span> ({session.seatsBooked}/{session.capacity} booked;{" "}
      <span data-session-id={session.id} data-available-spots={String(left)} data-status={session.status}>
        {seatsLeftText(left, session.status)}
      </span>
      )
    </span>
  );
}

/** The warning flags of a session: near full, low fill, no instructor, cancelled. */
export function Flags({ session }: { session: ConsoleSession }) {
  return (
    <span class="flags">
      {session.nearFull ? <span class="badge warn" data-flag="near-full">Near full</span> : null}
      {session.lowFill ? <span class="badge warn" data-flag="low-fill">Low fill</span> : null}
      {session.instructor ? null : <span class="badge bad" data-flag="no-instructor">No instructor</span>}
      {session.status !== "scheduled" ? <span class="badge">{session.status}</span> : null}
    </span>
  );
}

/**
 * A table that may scroll sideways on a narrow screen: a named region that takes the
 * keyboard focus, so it can be scrolled without a mouse (axe: scrollable-region-focusable).
 */
export function ScrollRegion({ label, children }: { label: string; children?: Child }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabindex={0}>
      {children}
    </div>
  );
}

/** A table of sessions with start (studio-local), instructor, fill and flags. */
export function SessionTable({ sessions, caption, testId }: { sessions: ConsoleSession[]; caption: string; testId: string }) {
  if (sessions.length === 0) return <p data-testid={testId}>{caption}: no sessions.</p>;
  return (
    <ScrollRegion label={caption}>
      <table data-testid={testId}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Starts</th>
            <th scope="col">Class</th>
            <th scope="col">Instructor</th>
            <th scope="col">Booked</th>
            <th scope="col">Warnings</th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((session) => (
            <tr data-testid="session-row" data-session-row={session.id}>
              <td>
                <a href={`/admin/sessions/${encodeURIComponent(session.id)}`}>{localTime(session.startsAt, session.timeZone)}</a>
              </td>
              <td>{session.className}</td>
              <td>{session.instructor ?? "—"}</td>
              <td>
                <Fill session={session} />
              </td>
              <td>
                <Flags session={session} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

/** `<option>`s with one selected. */
export function Options({ choices, selected }: { choices: { value: string; label: string }[]; selected: string | undefined }) {
  return (
    <>
      {choices.map((choice) => (
        <option value={choice.value} selected={choice.value === (selected ?? "")}>
          {choice.label}
        </option>
      ))}
    </>
  );
}
