/** /admin/bookings: search by email, name, class, booking dates and status; results; CSV of the same search. */
import { localTime, pounds } from "../format";
import { Layout, type LayoutProps } from "../layout";
import { Options, ScrollRegion } from "./parts";

export interface BookingRow {
  id: string;
  status: string;
  customer: { email: string; firstName: string; lastName: string };
  className: string;
  timeZone: string;
  guestCount: number;
  totalAmountPence: number;
  confirmedAt: string;
  firstSession: string | null;
  sessions: number;
}

export interface BookingSearchForm {
  email?: string | undefined;
  name?: string | undefined;
  classId?: string | undefined;
  status?: string | undefined;
  /** YYYY-MM-DD, booked on or after (console zone). */
  from?: string | undefined;
  /** YYYY-MM-DD, booked on or before (console zone). */
  to?: string | undefined;
  /** YYYY-MM-DD: with a session on or after / on or before that day (console zone). */
  sessionFrom?: string | undefined;
  sessionTo?: string | undefined;
}

export interface BookingsPageProps {
  user: LayoutProps["user"];
  zone: string;
  form: BookingSearchForm;
  /** A problem with the search (e.g. dates the wrong way round), shown instead of results. */
  problem: string | null;
  classes: { id: string; name: string }[];
  statuses: readonly string[];
  bookings: BookingRow[];
  /** The search as a query string (for the CSV link and the next page). */
  query: string;
  nextPage: string | null;
}

export function BookingsPage(props: BookingsPageProps) {
  const { form } = props;
  return (
    <Layout title="Bookings" area="console" user={props.user}>
      <form method="get" action="/admin/bookings" class="filters" id="booking-search">
        <div class="field">
          <label for="search-email">Email</label>
          <input id="search-email" name="email" type="email" value={form.email ?? ""} autocomplete="off" />
        </div>
        <div class="field">
          <label for="search-name">Name</label>
          <input id="search-name" name="name" type="search" value={form.name ?? ""} maxlength={100} />
        </div>
        <div class="field">
          <label for="search-class">Class</label>
          <select id="search-class" name="classId">
            <Options choices={[{ value: "", label: "Any class" }, ...props.classes.map((k) => ({ value: k.id, label: k.name }))]} selected={form.classId} />
          </select>
        </div>
        <div class="field">
          <label for="search-status">Status</label>
          <select id="search-status" name="status">
            <Options choices={[{ value: "", label: "Any" }, ...props.statuses.map((s) => ({ value: s, label: s }))]} selected={form.status} />
          </select>
        </div>
        <div class="field">
          <label for="search-from">Booked from</label>
          <input id="search-from" name="from" type="date" value={form.from ?? ""} />
        </div>
        <div class="field">
          <label for="search-to">Booked until</label>
          <input id="search-to" name="to" type="date" value={form.to ?? ""} />
        </div>
        <div class="field">
          <label for="search-session-from">Sessions from</label>
          <input id="search-session-from" name="sessionFrom" type="date" value={form.sessionFrom ?? ""} />
        </div>
        <div class="field">
          <label for="search-session-to">Sessions until</label>
          <input id="search-session-to" name="sessionTo" type="date" value={form.sessionTo ?? ""} />
        </div>
        <button type="submit">Search</button>
      </form>
      <p>Dates are days in {props.zone} time.</p>
      {props.problem ? (
        <p class="error" role="alert" data-testid="search-problem">
          {props.problem}
        </p>
      ) : (
        <>
          <p>
            <a href={`/admin/bookings.csv${props.query ? `?${props.query}` : ""}`} id="bookings-csv" download>
              Download these bookings as CSV
            </a>
          </p>
          {props.bookings.length === 0 ? (
            <p data-testid="no-bookings">No bookings match.</p>
          ) : (
            <ScrollRegion label="Bookings">
              <table data-testid="bookings-table">
                <caption>Bookings, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Booked</th>
                    <th scope="col">Customer</th>
                    <th scope="col">Class</th>
                    <th scope="col">First session</th>
                    <th scope="col">Seats</th>
                    <th scope="col">Total</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {props.bookings.map((b) => (
                    <tr data-booking-id={b.id}>
                      <td>
                        <a href={`/admin/bookings/${encodeURIComponent(b.id)}`}>{localTime(b.confirmedAt, b.timeZone)}</a>
                      </td>
                      <td>
                        {b.customer.firstName} {b.customer.lastName}
                        <br />
                        <span class="muted">{b.customer.email}</span>
                      </td>
                      <td>{b.className}</td>
                      <td>
                        {b.firstSession ? localTime(b.firstSession, b.timeZone) : "—"}
                        {b.sessions > 1 ? ` (+${b.sessions - 1} more)` : ""}
                      </td>
                      <td>{b.guestCount}</td>
                      <td>{pounds(b.totalAmountPence)}</td>
                      <td>{b.status}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </ScrollRegion>
          )}
          {props.nextPage ? (
            <p>
              <a href={`/admin/bookings?${props.nextPage}`} rel="next">
                Older bookings
              </a>
            </p>
          ) : null}
        </>
      )}
    </Layout>
  );
}
