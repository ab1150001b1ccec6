/**
 * /admin/demand: what customers wanted and could not have, per course, split by why (seed 000):
 * a bar chart of hiring demand (no-trainer refusals + notify-me registrations: hire a trainer)
 * for the top courses with the numbers beside it; sold-out demand (refused for seats, session
 * waitlists: add a session) as its own figure beside it, never added in; the same per city and
 * course, and every course's signal counts in a table.
 */
import { Layout, type LayoutProps } from "../layout";
import { ScrollRegion } from "./parts";

export interface DemandRow {
  courseId: string;
  courseName: string | null;
  views: number;
  checkouts: number;
  blocked: number;
  waitlist: number;
  total: number;
  blockedNoTrainer: number;
  notifyMe: number;
  blockedSoldOut: number;
  sessionWaitlist: number;
  hiringDemand: number;
  soldOutDemand: number;
}

export interface DemandPageProps {
  user: LayoutProps["user"];
  form: { from: string; to: string };
  problem: string | null;
  /** The hiring view: courses by hiring demand, most first. */
  top: DemandRow[];
  /** Courses by sold-out demand, most first. */
  soldOut: DemandRow[];
  byCourse: DemandRow[];
  /** Per city and course, the rows with hiring or sold-out demand, most hiring demand first. */
  byCity: (DemandRow & { cityName: string | null })[];
}
const nameOf = (row: DemandRow) => row.courseName ?? `${row.courseId} (removed)`;

export function DemandPage(props: DemandPageProps) {
  return (
    <Layout title="Demand" area="console" user={props.user}>
      <form method="get" action="/admin/demand" class="filters" id="demand-form">
        <div class="field">
          <label for="demand-from">From (UTC day)</label>
          <input id="demand-from" name="from" type="date" value={props.form.from} />
        </div>
        <div class="field">
          <label for="demand-to">To (UTC day)</label>
          <input id="demand-to" name="to" type="date" value={props.form.to} />
        </div>
        <button type="submit">Show</button>
      </form>
      {props.problem ? (
        <p class="error" role="alert" data-testid="demand-problem">
          {props.problem}
        </p>
      ) : (
        <>
          <section aria-labelledby="unmet-heading">
            <h2 id="unmet-heading">Unmet demand: hire a trainer</h2>
            {props.top.length === 0 ? (
              <p data-testid="no-unmet-demand">Nobody was turned away for want of a trainer, or asked to be notified, in this range.</p>
            ) : (
              <div class="chart-and-table">
                <div class="chart" data-chart="console-demand" data-chart-table="unmet-table" data-chart-unit="people" aria-hidden="true"></div>
                <ScrollRegion label="Hiring demand">
                  <table id="unmet-table" data-testid="unmet-table">
                    <caption>Hiring demand per course: refused for no trainer, and notify-me registrations (sold-out demand beside it, not counted in)</caption>
                    <thead>
                      <tr>
                        <th scope="col">Course</th>
                        <th scope="col">Hiring demand</th>
                        <th scope="col">No trainer</th>
                        <th scope="col">Notify me</th>
                        <th scope="col">Sold out (add a session)</th>
                      </tr>
                    </thead>
                    <tbody>
                      {props.top.map((row) => (
                        <tr data-label={nameOf(row)} data-y={String(row.hiringDemand)} data-course-id={row.courseId}>
                          <td>{nameOf(row)}</td>
                          <td>{row.hiringDemand}</td>
                          <td>{row.blockedNoTrainer}</td>
                          <td>{row.notifyMe}</td>
                          <td>{row.soldOutDemand}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </ScrollRegion>
              </div>
            )}
          </section>
          <section aria-labelledby="sold-out-heading">
            <h2 id="sold-out-heading">Sold out: add a session</h2>
            {props.soldOut.length === 0 ? (
              <p data-testid="no-sold-out-demand">No course sold out in this range.</p>
            ) : (
              <ScrollRegion label="Sold-out demand">
                <table data-testid="sold-out-table">
                  <caption>Sold-out demand per course: refused for seats, and session waiting lists (a reason to add a session, not to hire)</caption>
                  <thead>
                    <tr>
                      <th scope="col">Course</th>
                      <th scope="col">Sold-out demand</th>
                      <th scope="col">Refused for seats</th>
                      <th scope="col">Session waitlist</th>
                    </tr>
                  </thead>
                  <tbody>
                    {props.soldOut.map((row) => (
                      <tr data-sold-out-course-id={row.courseId}>
                        <td>{nameOf(row)}</td>
                        <td>{row.soldOutDemand}</td>
                        <td>{row.blockedSoldOut}</td>
                        <td>{row.sessionWaitlist}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </ScrollRegion>
            )}
          </section>
          <section aria-labelledby="city-heading">
            <h2 id="city-heading">Unmet demand by city</h2>
            {props.byCity.length === 0 ? (
              <p>Nobody was turned away in any city in this range.</p>
            ) : (
              <ScrollRegion label="Demand per city">
                <table data-testid="city-table">
                  <caption>Hiring demand and sold-out demand per city and course</caption>
                  <thead>
                    <tr>
                      <th scope="col">City</th>
                      <th scope="col">Course</th>
                      <th scope="col">Hiring demand</th>
                      <th scope="col">No trainer</th>
                      <th scope="col">Notify me</th>
                      <th scope="col">Sold out</th>
                    </tr>
                  </thead>
                  <tbody>
                    {props.byCity.map((row) => (
                      <tr>
                        <td>{row.cityName ?? "No city"}</td>
                        <td>{nameOf(row)}</td>
                        <td>{row.hiringDemand}</td>
                        <td>{row.blockedNoTrainer}</td>
                        <td>{row.notifyMe}</td>
                        <td>{row.soldOutDemand}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </ScrollRegion>
            )}
          </section>
          <section aria-labelledby="courses-heading">
            <h2 id="courses-heading">Every course</h2>
            {props.byCourse.length === 0 ? (
              <p>No demand signals in this range.</p>
            ) : (
              <ScrollRegion label="Demand signals">
                <table data-testid="demand-table">
                  <caption>Demand signals per course</caption>
                  <thead>
                    <tr>
                      <th scope="col">Course</th>
                      <th scope="col">Views</th>
                      <th scope="col">Checkouts</th>
                      <th scope="col">Blocked</th>
                      <th scope="col">Waitlist</th>
                      <th scope="col">All signals</th>
                      <th scope="col">Hiring demand</th>
                      <th scope="col">Sold out</th>
                    </tr>
                  </thead>
                  <tbody>
                    {props.byCourse.map((row) => (
                      <tr data-course-id={row.courseId}>
                        <td>{nameOf(row)}</td>
                        <td>{row.views}</td>
                        <td>{row.checkouts}</td>
                        <td>{row.blocked}</td>
                        <td>{row.waitlist}</td>
                        <td>{row.total}</td>
                        <td>{row.hiringDemand}</td>
                        <td>{row.soldOutDemand}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </ScrollRegion>
            )}
          </section>
        </>
      )}
    </Layout>
  );
}
