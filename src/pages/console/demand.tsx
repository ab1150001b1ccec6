/**
 * /admin/demand: what customers wanted and could not have, per course: a bar chart of unmet demand
 * (blocked purchases + waitlist signals) for the top courses with the numbers beside it, the same
 * per city and course, and every course's signal counts in a table.
 */
import { Layout, type LayoutProps } from "../layout";

export interface DemandRow {
  courseId: string;
  courseName: string | null;
  views: number;
  checkouts: number;
  blocked: number;
  waitlist: number;
  total: number;
}

export interface DemandPageProps {
  user: LayoutProps["user"];
  form: { from: string; to: string };
  problem: string | null;
  top: (DemandRow & { unmetDemand: number })[];
  byCourse: DemandRow[];
  /** Per city and course, the rows with unmet demand, most first. */
  byCity: (DemandRow & { cityName: string | null; unmetDemand: number })[];
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
            <h2 id="unmet-heading">Unmet demand, top courses</h2>
            {props.top.length === 0 ? (
              <p data-testid="no-unmet-demand">Nobody was turned away or put on a waiting list in this range.</p>
            ) : (
              <div class="chart-and-table">
                <div class="chart" data-chart="console-demand" data-chart-table="unmet-table" data-chart-unit="people" aria-hidden="true"></div>
                <div class="table-wrap">
                  <table id="unmet-table" data-testid="unmet-table">
                    <caption>Blocked purchases and waitlist signals per course</caption>
                    <thead>
                      <tr>
                        <th scope="col">Course</th>
                        <th scope="col">Unmet</th>
                        <th scope="col">Blocked</th>
                        <th scope="col">Waitlist</th>
                      </tr>
                    </thead>
                    <tbody>
                      {props.top.map((row) => (
                        <tr data-label={nameOf(row)} data-y={String(row.unmetDemand)} data-course-id={row.courseId}>
                          <td>{nameOf(row)}</td>
                          <td>{row.unmetDemand}</td>
                          <td>{row.blocked}</td>
                          <td>{row.waitlist}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              </div>
            )}
          </section>
          <section aria-labelledby="city-heading">
            <h2 id="city-heading">Unmet demand by city</h2>
            {props.byCity.length === 0 ? (
              <p>Nobody was turned away in any city in this range.</p>
            ) : (
              <div class="table-wrap">
                <table data-testid="city-table">
                  <caption>Blocked purchases and waitlist signals per city and course</caption>
                  <thead>
                    <tr>
                      <th scope="col">City</th>
                      <th scope="col">Course</th>
                      <th scope="col">Unmet</th>
                      <th scope="col">Blocked</th>
                      <th scope="col">Waitlist</th>
                    </tr>
                  </thead>
                  <tbody>
                    {props.byCity.map((row) => (
                      <tr>
                        <td>{row.cityName ?? "No city"}</td>
                        <td>{nameOf(row)}</td>
                        <td>{row.unmetDemand}</td>
                        <td>{row.blocked}</td>
                        <td>{row.waitlist}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
          <section aria-labelledby="courses-heading">
            <h2 id="courses-heading">Every course</h2>
            {props.byCourse.length === 0 ? (
              <p>No demand signals in this range.</p>
            ) : (
              <div class="table-wrap">
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
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </Layout>
  );
}
