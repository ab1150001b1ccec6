/**
 * A renewal offer (`/renewal-offers/{token}`): the seat held to renew a certificate, the session in
 * the studio's time, the price and how long the hold lasts. Accept and Decline are the waitlist
 * offer's buttons (src/client/offer-actions.ts), pointed at /api/v1/renewal-offers/{token}.
 */
import { SessionFacts } from "./facts";
import { localTime, pounds } from "./format";
import { Layout, type LayoutProps } from "./layout";
import { OfferActions } from "./offer";

export interface RenewalOfferPageView {
  token: string;
  status: "offered" | "accepted" | "declined" | "expired";
  certificateNumber: string;
  className: string;
  studioName: string;
  timeZone: string;
  sessionStartsAt: string;
  expiresAt: string;
  totalAmountPence: number;
}

const CLOSED = {
  accepted: "You accepted this offer: the seat is booked. The confirmation email has the link to manage the booking.",
  declined: "You declined this offer, so the seat was released.",
  expired: "This offer has expired, so the seat was released. You can still book another session of the class.",
} as const;

export function RenewalOfferPage({ offer, user }: { offer: RenewalOfferPageView; user?: LayoutProps["user"] }) {
  return (
    <Layout title={`Renew certificate ${offer.certificateNumber}`} user={user}>
      {offer.status === "offered" ? (
        <p class="notice">Your certificate expires soon, so we are holding a seat for you on the next session. Accept before the time runs out, or decline to release it.</p>
      ) : (
        <p class="notice" id="offer-closed" data-reason={offer.status}>{CLOSED[offer.status]}</p>
      )}
      <section class="card" aria-labelledby="offer-heading" id="offer-summary">
        <h2 id="offer-heading">The seat held for you</h2>
        <dl class="facts">
          <SessionFacts className={offer.className} studioName={offer.studioName} startsAt={offer.sessionStartsAt} timeZone={offer.timeZone} />
          <dt>Price</dt>
          <dd id="offer-price">{pounds(offer.totalAmountPence)}</dd>
          <dt>Held until</dt>
          <dd>
            <time datetime={offer.expiresAt}>{localTime(offer.expiresAt, offer.timeZone)}</time>
            {offer.status === "offered" ? (
              <>
                {" ("}
                <span id="offer-countdown" data-countdown-to={offer.expiresAt} role="timer" aria-label="Time left to accept">
                  …
                </span>
                {" left)"}
              </>
            ) : null}
          </dd>
        </dl>
      </section>
      {offer.status === "offered" ? (
        <OfferActions
          token={offer.token}
          totalPence={offer.totalAmountPence}
          api={`/api/v1/renewal-offers/${encodeURIComponent(offer.token)}`}
          expiredText="This offer has expired: the seat was released."
          declinedText="You declined the offer, and the seat was released. Thank you for letting us know."
        />
      ) : null}
    </Layout>
  );
}

export function RenewalOfferNotFoundPage({ user }: { user?: LayoutProps["user"] }) {
  return (
    <Layout title="Offer not found" user={user}>
      <p>This renewal offer link is not valid. Use the link from the email.</p>
    </Layout>
  );
}
