/**
 * A waitlist offer (`/waitlist-offers/{token}`): the class, the session in the studio's time, the
 * seats held, the price and how long the hold lasts (a `[data-countdown-to]` countdown,
 * src/client/countdown.ts). Accept and Decline are src/client/offer-actions.ts, calling
 * POST /api/v1/waitlist-offers/{token}/accept (with the price shown here) or …/decline.
 */
import { SessionFacts } from "./facts";
import { localTime, pounds } from "./format";
import { Layout, type LayoutProps } from "./layout";

export interface OfferView {
  token: string;
  className: string;
  studioName: string;
  timeZone: string;
  sessionStartsAt: string;
  seats: number;
  totalPence: number;
  expiresAt: string;
  classId: string;
}

export function OfferPage({ offer, user }: { offer: OfferView; user?: LayoutProps["user"] }) {
  return (
    <Layout title={`Seats offered: ${offer.className}`} user={user}>
      <p class="notice">Seats on the waitlist became free, and they are held for you. Accept before the time runs out, or decline so the next person gets them.</p>
      <section class="card" aria-labelledby="offer-heading" id="offer-summary">
        <h2 id="offer-heading">The offer</h2>
        <dl class="facts">
          <SessionFacts className={offer.className} studioName={offer.studioName} startsAt={offer.sessionStartsAt} timeZone={offer.timeZone} />
          <dt>Seats</dt>
          <dd id="offer-seats">{offer.seats === 1 ? "1 seat" : `${offer.seats} seats`}</dd>
          <dt>Price</dt>
          <dd id="offer-price">{pounds(offer.totalPence)}</dd>
          <dt>Held until</dt>
          <dd>
            <time datetime={offer.expiresAt}>{localTime(offer.expiresAt, offer.timeZone)}</time> (
            <span id="offer-countdown" data-countdown-to={offer.expiresAt} role="timer" aria-label="Time left to accept">
              …
            </span>{" "}
            left)
          </dd>
        </dl>
      </section>
      <OfferActions token={offer.token} totalPence={offer.totalPence} />
    </Layout>
  );
}

/**
 * Accept and Decline for a held offer (src/client/offer-actions.ts drives them): the waitlist
 * offer's API unless `api` names another one, with its own words for an expired or declined offer.
 */
export function OfferActions(props: { token: string; totalPence: number; api?: string; expiredText?: string; declinedText?: string }) {
  return (
    <div
      id="offer-actions"
      data-offer-token={props.token}
      data-total-pence={String(props.totalPence)}
      data-offer-api={props.api}
      data-expired-text={props.expiredText}
      data-declined-text={props.declinedText}
    >
      <p class="actions">
        <button type="button" id="offer-accept">
          Accept and book for {pounds(props.totalPence)}
        </button>{" "}
        <button type="button" id="offer-decline" class="secondary">
          Decline
        </button>
      </p>
      <div id="offer-result" role="status" aria-live="polite" tabindex={-1}></div>
    </div>
  );
}

export type OfferClosedReason = "closed" | "booked" | "not-found";

const CLOSED: Record<OfferClosedReason, { title: string; text: string }> = {
  closed: { title: "This offer has expired", text: "The time to accept it ran out, or it was declined, so the seats went to the next person in line. If you are still on the waitlist, we will email you if more seats free up." },
  booked: { title: "This offer was accepted", text: "These seats are booked already. The confirmation email has the link to manage the booking." },
  "not-found": { title: "Offer not found", text: "This offer link is not valid. Use the link from the newest offer email." },
};

export function OfferClosedPage({ reason, bookingHref, classHref, user }: { reason: OfferClosedReason; bookingHref?: string | undefined; classHref?: string | undefined; user?: LayoutProps["user"] }) {
  const { title, text } = CLOSED[reason];
  return (
    <Layout title={title} user={user}>
      <p id="offer-closed" data-reason={reason}>
        {text}
      </p>
      <p>
        {bookingHref ? (
          <>
            <a href={bookingHref}>See the booking</a>
            {" · "}
          </>
        ) : null}
        {classHref ? (
          <>
            <a href={classHref}>See the class</a>
            {" · "}
          </>
        ) : null}
        <a href="/">Browse classes</a>
      </p>
    </Layout>
  );
}
