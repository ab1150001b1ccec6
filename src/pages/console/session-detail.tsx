/**
 * /admin/sessions/{id}: one session: its staff (the assignment form offers only qualified staff,
 * with who is free), its waiting list (add with priority, offer now, remove) and its capacity as
 * the session's Durable Object counts it beside the D1 projection; admins cancel it from here.
 */
import { localTime } from "../format";
import { Layout, type LayoutProps } from "../layout";
import { type ConsoleSession, Fill, Flags, Flash, ScrollRegion } from "./parts";

export interface QualifiedPerson {
  id: string;
  name: string;
  email: string;
  /** False when they teach or assist another session overlapping this one. */
  available: boolean;
}

export interface WaitlistRow {
  id: string;
  name: string;
  email: string;
  guestCount: number;
  priority: string;
  status: string;
  position: number | null;
  confirmed: boolean;
  offerExpiresAt: string | null;
}

export interface CapacityCheck {
  /** What the session's DO counts, or why it could not be asked. */
  live: { capacity: number; booked: number; held: number; availableSpots: number; waitlistLength: number; status: string } | { problem: string };
  projected: { capacity: number; seatsBooked: number };
}

export interface SessionDetailProps {
  user: LayoutProps["user"];
  session: ConsoleSession & { location: string | null; instructorId: string | null; assistantIds: string[] };
  requiredRole: string;
  qualified: QualifiedPerson[];
  waitlist: WaitlistRow[];
  capacity: CapacityCheck;
  priorities: readonly string[];
  /** Staff assignment is for admins (the API refuses staff); staff see the form with that said. */
  isAdmin: boolean;
}

export function SessionDetailPage(props: SessionDetailProps) {
  const { session } = props;
  return (
    <Layout title={`${session.className}, ${localTime(session.startsAt, session.timeZone)}`} area="console" user={props.user}>
      <Flash />
      <p>
        <a href="/admin/sessions">Back to sessions</a>
      </p>
      <dl class="facts" data-testid="session-facts">
        <dt>Status</dt>
        <dd>{session.status}</dd>
        <dt>Ends</dt>
        <dd>{localTime(session.endsAt, session.timeZone)}</dd>
        <dt>Location</dt>
        <dd>{session.location ?? "—"}</dd>
        <dt>Booked</dt>
        <dd>
          <Fill session={session} /> <Flags session={session} />
        </dd>
      </dl>
      <StaffSection {...props} />
      <WaitlistSection {...props} />
      <CapacitySection capacity={props.capacity} />
      <CancelSection {...props} />
    </Layout>
  );
}

function StaffSection({ session, qualified, requiredRole, isAdmin }: SessionDetailProps) {
  const label = (p: QualifiedPerson) => `${p.name}${p.available ? "" : " (busy: on another session at this time)"}`;
  return (
    <section aria-labelledby="staff-heading">
      <h2 id="staff-heading">Staff</h2>
      <p>
        Instructor: <strong data-testid="current-instructor">{session.instructor ?? "none assigned"}</strong>. Only active staff holding the teaching role{" "}
        <strong>{requiredRole}</strong> are offered.
      </p>
      {qualified.length === 0 ? (
        <p class="error" data-testid="no-qualified-staff">
          Nobody holds the teaching role {requiredRole}: give someone the role before assigning.
        </p>
      ) : (
        <form id="staff-form" data-time-zone={session.timeZone} data-api-form data-method="PUT" data-url={`/api/v1/admin/sessions/${encodeURIComponent(session.id)}/staff`} data-done="Staff saved.">
          <div class="field">
            <label for="instructor">Instructor</label>
            <select id="instructor" name="instructorId" data-json="nullable">
              <option value="" selected={!session.instructorId}>
                No instructor
              </option>
              {qualified.map((p) => (
                <option value={p.id} selected={p.id === session.instructorId}>
                  {label(p)}
                </option>
              ))}
            </select>
          </div>
          <fieldset>
            <legend>Assistants</legend>
            {qualified.map((p) => (
              <div class="check">
                <input type="checkbox" id={`assistant-${p.id}`} name="assistantIds" value={p.id} data-json="array" checked={session.assistantIds.includes(p.id)} />
                <label for={`assistant-${p.id}`}>{label(p)}</label>
              </div>
            ))}
          </fieldset>
          <button type="submit">Save staff{isAdmin ? "" : " (admins only)"}</button>
        </form>
      )}
    </section>
  );
}

function WaitlistSection({ session, waitlist, priorities }: SessionDetailProps) {
  return (
    <section aria-labelledby="waitlist-heading">
      <h2 id="waitlist-heading">Waiting list</h2>
      {waitlist.length === 0 ? (
        <p data-testid="waitlist-empty">Nobody is waiting.</p>
      ) : (
        <ScrollRegion label="Waiting list">
          <table data-testid="waitlist-table">
            <caption>In line (open offers first), then those who left</caption>
            <thead>
              <tr>
                <th scope="col">Place</th>
                <th scope="col">Who</th>
                <th scope="col">Seats</th>
                <th scope="col">Priority</th>
                <th scope="col">Status</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {waitlist.map((entry) => {
                const inLine = entry.status === "waiting" || entry.status === "offered";
                return (
                  <tr data-entry-id={entry.id} data-entry-status={entry.status}>
                    <td>{entry.position ?? "—"}</td>
                    <td>
                      {entry.name}
                      <br />
                      <span class="muted">{entry.email}</span>
                    </td>
                    <td>{entry.guestCount}</td>
                    <td>{entry.priority}</td>
                    <td>
                      {entry.status}
                      {entry.confirmed ? "" : " (email not confirmed yet)"}
                      {entry.offerExpiresAt && entry.status === "offered" ? `, offer open until ${localTime(entry.offerExpiresAt, session.timeZone)}` : ""}
                    </td>
                    <td class="actions">
                      {entry.status === "waiting" ? (
                        <button type="button" data-api-action data-method="PUT" data-url={`/api/v1/admin/waiting-lists/${encodeURIComponent(entry.id)}/offer`} data-done="Offer made." data-testid="offer-now">
                          Offer now
                        </button>
                      ) : null}
                      {inLine ? (
                        <button
                          type="button"
                          data-api-action
                          data-method="DELETE"
                          data-url={`/api/v1/admin/waiting-lists/${encodeURIComponent(entry.id)}`}
                          data-confirm={`Remove ${entry.email} from the waiting list?`}
                          data-done="Removed from the waiting list."
                          data-testid="remove-entry"
                        >
                          Remove
                        </button>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </ScrollRegion>
      )}
      <form id="waitlist-add" data-api-form data-method="POST" data-url="/api/v1/admin/waiting-lists" data-done="Added to the waiting list.">
        <h3>Add someone</h3>
        <input type="hidden" name="sessionId" value={session.id} />
        <div class="field">
          <label for="wl-email">Email</label>
          <input id="wl-email" name="email" type="email" required autocomplete="off" />
        </div>
        <div class="field">
          <label for="wl-first">First name</label>
          <input id="wl-first" name="firstName" type="text" required maxlength={100} />
        </div>
        <div class="field">
          <label for="wl-last">Last name</label>
          <input id="wl-last" name="lastName" type="text" required maxlength={100} />
        </div>
        <div class="field">
          <label for="wl-seats">Seats</label>
          <input id="wl-seats" name="guestCount" type="number" min={1} max={20} value="1" required data-json="number" />
        </div>
        <div class="field">
          <label for="wl-priority">Priority</label>
          <select id="wl-priority" name="priority">
            {priorities.map((p) => (
              <option value={p} selected={p === "normal"}>
                {p}
              </option>
            ))}
          </select>
        </div>
        <button type="submit">Add to waiting list</button>
      </form>
    </section>
  );
}

function CapacitySection({ capacity }: { capacity: CapacityCheck }) {
  const { live, projected } = capacity;
  const counted = "problem" in live ? null : live;
  const agrees = counted ? counted.booked === projected.seatsBooked && counted.capacity === projected.capacity : null;
  return (
    <section aria-labelledby="capacity-heading">
      <h2 id="capacity-heading">Capacity check</h2>
      <p>
        The session's own ledger decides seats; the database keeps a copy that follows it a moment later. A difference that lasts is drift (the reconciliation job
        raises an alert for it).
      </p>
      {counted ? null : (
        <p class="error" role="alert">
          {"problem" in live ? live.problem : ""}
        </p>
      )}
      <ScrollRegion label="Seats">
        <table data-testid="capacity-table">
          <caption>Seats: the session's ledger beside the database</caption>
          <thead>
            <tr>
              <th scope="col">Figure</th>
              <th scope="col">Session ledger</th>
              <th scope="col">Database</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">Capacity</th>
              <td data-testid="live-capacity">{counted?.capacity ?? "—"}</td>
              <td>{projected.capacity}</td>
            </tr>
            <tr>
              <th scope="row">Booked</th>
              <td data-testid="live-booked">{counted?.booked ?? "—"}</td>
              <td data-testid="projected-booked">{projected.seatsBooked}</td>
            </tr>
            <tr>
              <th scope="row">Held (checkouts, offers)</th>
              <td>{counted?.held ?? "—"}</td>
              <td>—</td>
            </tr>
            <tr>
              <th scope="row">Available</th>
              <td>{counted?.availableSpots ?? "—"}</td>
              <td>—</td>
            </tr>
            <tr>
              <th scope="row">Waiting list</th>
              <td>{counted?.waitlistLength ?? "—"}</td>
              <td>—</td>
            </tr>
          </tbody>
        </table>
      </ScrollRegion>
      {agrees === null ? null : (
        <p data-testid="capacity-verdict" data-agrees={String(agrees)} class={agrees ? "ok" : "error"}>
          {agrees ? "The database agrees with the session's ledger." : "The database differs from the session's ledger (deliveries may still be on their way; reload to check again)."}
        </p>
      )}
    </section>
  );
}

/** Cancelling the session (POST /api/v1/admin/sessions/{id}/cancel): not offered once it is cancelled or over. */
function CancelSection({ session, isAdmin }: SessionDetailProps) {
  if (session.status === "cancelled" || Date.parse(session.endsAt) <= Date.now()) return null;
  return (
    <section aria-labelledby="cancel-heading">
      <h2 id="cancel-heading">Cancel this session</h2>
      <p>
        Every booking on it is cancelled (a course or drop-in keeps its other sessions), holds and the waiting list are closed, and everyone booked or waiting is
        emailed the reason. It cannot be undone.
      </p>
      <form id="session-cancel" data-api-form data-method="POST" data-url={`/api/v1/admin/sessions/${encodeURIComponent(session.id)}/cancel`} data-done="Session cancelled; everyone booked or waiting has been told.">
        <div class="field">
          <label for="cancel-reason">Reason (sent to everyone)</label>
          <textarea id="cancel-reason" name="reason" required maxlength={500} rows={3}></textarea>
        </div>
        <div class="field">
          <label for="cancel-refund">Refunds</label>
          <select id="cancel-refund" name="refund">
            <option value="full" selected>
              Full: each booking's share of what it paid
            </option>
            <option value="policy">Policy: keep the class's late-cancellation fee if it applies now</option>
            <option value="none">None</option>
          </select>
        </div>
        <button type="submit">Cancel the session{isAdmin ? "" : " (admins only)"}</button>
      </form>
    </section>
  );
}
