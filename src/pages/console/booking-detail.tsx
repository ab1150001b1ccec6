/** /admin/bookings/{id}: one booking, its sessions and every message sent or attempted about it. */
import { localTime, pounds } from "../format";
import { Layout, type LayoutProps } from "../layout";
import { ScrollRegion } from "./parts";

export interface BookingDetail {
  id: string;
  status: string;
  registrationType: string;
  customer: { email: string; firstName: string; lastName: string };
  guestCount: number;
  totalAmountPence: number;
  confirmedAt: string;
  cancelledAt: string | null;
  lines: { sessionId: string; startsAt: string; seats: number; pricePence: number; status: string }[];
}

export interface MessageRow {
  id: string;
  type: string;
  channel: string;
  status: string;
  recipientEmail: string;
  subject: string | null;
  content: string | null;
  attempts: number;
  lastError: string | null;
  sentBy: string | null;
  requestedAt: string;
  sentAt: string | null;
  failedAt: string | null;
}

export interface BookingDetailProps {
  user: LayoutProps["user"];
  zone: string;
  booking: BookingDetail;
  messages: MessageRow[];
}

export function BookingDetailPage({ user, zone, booking, messages }: BookingDetailProps) {
  return (
    <Layout title={`Booking by ${booking.customer.firstName} ${booking.customer.lastName}`} area="console" user={user}>
      <p>
        <a href="/admin/bookings">Back to bookings</a>
      </p>
      <dl class="facts" data-testid="booking-facts">
        <dt>Reference</dt>
        <dd>
          <code data-testid="booking-id">{booking.id}</code>
        </dd>
        <dt>Customer</dt>
        <dd>
          {booking.customer.firstName} {booking.customer.lastName} ({booking.customer.email})
        </dd>
        <dt>Status</dt>
        <dd>{booking.status}</dd>
        <dt>Kind</dt>
        <dd>{booking.registrationType}</dd>
        <dt>Seats</dt>
        <dd>{booking.guestCount}</dd>
        <dt>Total</dt>
        <dd>{pounds(booking.totalAmountPence)}</dd>
        <dt>Booked</dt>
        <dd>{localTime(booking.confirmedAt, zone)}</dd>
        {booking.cancelledAt ? (
          <>
            <dt>Cancelled</dt>
            <dd>{localTime(booking.cancelledAt, zone)}</dd>
          </>
        ) : null}
      </dl>
      <h2>Sessions</h2>
      <ul>
        {booking.lines.map((line) => (
          <li>
            <a href={`/admin/sessions/${encodeURIComponent(line.sessionId)}`}>{localTime(line.startsAt, zone)}</a>: {line.seats} seats, {pounds(line.pricePence)},{" "}
            {line.status}
          </li>
        ))}
      </ul>
      <h2 id="communications">Communications</h2>
      {messages.length === 0 ? (
        <p data-testid="no-communications">No messages about this booking yet.</p>
      ) : (
        <ScrollRegion label="Messages">
          <table data-testid="communications-table">
            <caption>Messages, in the order they were requested</caption>
            <thead>
              <tr>
                <th scope="col">Requested</th>
                <th scope="col">Kind</th>
                <th scope="col">To</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {messages.map((m) => (
                <tr data-communication-id={m.id} data-communication-status={m.status}>
                  <td>{localTime(m.requestedAt, zone)}</td>
                  <td>
                    {m.type} ({m.channel}){m.sentBy ? `, sent by ${m.sentBy}` : ""}
                  </td>
                  <td>{m.recipientEmail}</td>
                  <td>
                    {m.status}
                    {m.sentAt ? `, ${localTime(m.sentAt, zone)}` : ""}
                    {m.failedAt ? `, failed ${localTime(m.failedAt, zone)}` : ""}
                    {m.lastError ? (
                      <>
                        <br />
                        <span class="error">{m.lastError}</span>
                      </>
                    ) : null}
                  </td>
                  <td>{m.attempts}</td>
                  <td>
                    {m.subject ?? "(could not be rendered)"}
                    {m.content ? (
                      <details>
                        <summary>Text as sent</summary>
                        <pre class="message-text">{m.content}</pre>
                      </details>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      )}
    </Layout>
  );
}
