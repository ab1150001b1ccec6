/**
 * Confirming a waitlist join by its emailed link (`/waitlist-confirmations/{token}`). Opening the
 * page changes nothing (a mail scanner may open it); the button, src/client/waitlist-confirm.ts,
 * POSTs /api/v1/waitlist-confirmations/{token} and the party takes its place in line.
 */
import { SessionFacts } from "./facts";
import { localTime } from "./format";
import { Layout, type LayoutProps } from "./layout";

export interface ConfirmView {
  token: string;
  className: string;
  studioName: string;
  timeZone: string;
  sessionStartsAt: string;
  seats: number;
  confirmed: boolean;
  position: number | null;
  /** When an unconfirmed join lapses. */
  confirmBy: string | null;
  /** Still waiting or offered: false once it lapsed, was removed, declined or booked. */
  inLine: boolean;
  waitlistHref: string;
}

export function WaitlistConfirmPage({ entry, user }: { entry: ConfirmView; user?: LayoutProps["user"] }) {
  return (
    <Layout title={`Confirm your waitlist place: ${entry.className}`} user={user}>
      <section class="card" aria-labelledby="confirm-heading">
        <h2 id="confirm-heading">Your waitlist request</h2>
        <dl class="facts">
          <SessionFacts className={entry.className} studioName={entry.studioName} startsAt={entry.sessionStartsAt} timeZone={entry.timeZone} />
          <dt>Seats wanted</dt>
          <dd>{entry.seats === 1 ? "1 seat" : `${entry.seats} seats`}</dd>
        </dl>
      </section>
      <ConfirmState entry={entry} />
    </Layout>
  );
}

function ConfirmState({ entry }: { entry: ConfirmView }) {
  if (!entry.inLine) {
    return (
      <p id="waitlist-confirm-closed" class="notice">
        This request is no longer on the waitlist: it was not confirmed in time, or it was removed. <a href={entry.waitlistHref}>Join the waitlist again</a>.
      </p>
    );
  }
  if (entry.confirmed) {
    return (
      <p id="waitlist-confirm-done" class="success">
        Your email is confirmed and you are on the waitlist{entry.position ? `, number ${entry.position} in line` : ""}. We will email you when seats are offered to you.
      </p>
    );
  }
  return (
    <div id="waitlist-confirm" data-confirm-token={entry.token}>
      <p>
        Confirm that this is your email address to take your place in line.
        {entry.confirmBy ? (
          <>
            {" "}
            Unconfirmed requests lapse at <time datetime={entry.confirmBy}>{localTime(entry.confirmBy, entry.timeZone)}</time>.
          </>
        ) : null}
      </p>
      <p>
        <button type="button" id="waitlist-confirm-button">
          Confirm my place
        </button>
      </p>
      <div id="waitlist-confirm-result" role="status" aria-live="polite" tabindex={-1}></div>
    </div>
  );
}

export function ConfirmationNotFoundPage({ user }: { user?: LayoutProps["user"] }) {
  return (
    <Layout title="Confirmation link not found" user={user}>
      <p id="waitlist-confirm-not-found">This confirmation link is not valid, or its waitlist request has gone. Use the link from the newest email, or join the waitlist again from the class page.</p>
      <p>
        <a href="/">Browse classes</a>
      </p>
    </Layout>
  );
}
