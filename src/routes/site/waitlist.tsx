/**
 * The customer's pages for when a class cannot simply be booked: join a full session's waitlist
 * (`/sessions/{id}/waitlist`), confirm a join by its emailed link (`/waitlist-confirmations/{token}`), a waitlist offer (`/waitlist-offers/{token}`) and "notify me" for a
 * class without a trainer (`/classes/{id}/notify`). Data comes from the services the API uses
 * (availability from the session's Durable Object, the offer and its price from the waitlist
 * service); the forms post to the API from the browser.
 */
import { Hono } from "hono";
import { getPublicSession } from "../../db/catalog-queries";
import { getDb } from "../../db/client";
import type { AppEnv } from "../../env";
import { ApiError } from "../../errors";
import { authenticate } from "../../middleware/auth";
import { ClassNotFoundPage, NotifyMePage } from "../../pages/notify-me";
import { OfferClosedPage, OfferPage } from "../../pages/offer";
import { ConfirmationNotFoundPage, WaitlistConfirmPage } from "../../pages/waitlist-confirm";
import { SessionNotFoundPage, WaitlistJoinPage } from "../../pages/waitlist-join";
import { sessionAvailability } from "../../services/availability";
import { classPlace } from "../../services/booking-context";
import { offerQuote, openOffer } from "../../services/waitlist";
import { entryToConfirm } from "../../services/waitlist-join";
import { pageHeaders, pageUser, renderPage } from "../page-response";

/** Offer tokens are signed and short; the API refuses longer ones too. */
const MAX_TOKEN = 300;
const ID = /^[A-Za-z0-9_-]{1,64}$/;

export const waitlistPages = new Hono<AppEnv>();
// Mounted at the root beside other page routers: middleware per route, never on a whole prefix
// another router serves (the class page is engineer A's).
const page = [pageHeaders, authenticate()] as const;

waitlistPages.get("/sessions/:id/waitlist", ...page, async (c) => {
  const id = c.req.param("id");
  const db = getDb(c.env.DB);
  const session = ID.test(id) ? await getPublicSession(db, id) : undefined;
  if (!session) return renderPage(c, <SessionNotFoundPage user={pageUser(c)} />, { status: 404 });
  const availability = await sessionAvailability(c.env, db, id);
  return renderPage(
    c,
    <WaitlistJoinPage
      session={{
        id: session.id,
        classId: session.class.id,
        className: session.class.name,
        studioName: session.studio.name,
        timeZone: session.studio.timeZone,
        startsAt: session.startsAt.toISOString(),
        capacity: availability.capacity,
      }}
      availability={{ availableSpots: availability.availableSpots, status: session.status === "cancelled" ? "cancelled" : availability.status, waitlistLength: availability.waitlistLength }}
      user={pageUser(c)}
    />,
  );
});

waitlistPages.get("/waitlist-offers/:token", ...page, async (c) => {
  const token = c.req.param("token");
  const db = getDb(c.env.DB);
  const user = pageUser(c);
  try {
    if (token.length > MAX_TOKEN) throw new ApiError("WAITLIST_ENTRY_NOT_FOUND", "No offer matches this token");
    const { entry, offer } = await openOffer(c.env, token);
    const [quote, session] = await Promise.all([offerQuote(db, entry), getPublicSession(db, entry.sessionId)]);
    return renderPage(
      c,
      <OfferPage
        offer={{
          token,
          className: quote.className,
          studioName: session?.studio.name ?? "",
          timeZone: session?.studio.timeZone ?? "UTC",
          sessionStartsAt: quote.startsAt.toISOString(),
          seats: entry.guestCount,
          totalPence: quote.totalPence,
          expiresAt: new Date(offer.expiresAt).toISOString(),
          classId: session?.class.id ?? "",
        }}
        user={user}
      />,
    );
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.code === "OFFER_NOT_AVAILABLE") {
      const details = error.details as { status?: string; bookingId?: string | null } | undefined;
      const booked = details?.status === "booked";
      const bookingHref = booked && details?.bookingId ? `/bookings/${encodeURIComponent(details.bookingId)}` : undefined;
      return renderPage(c, <OfferClosedPage reason={booked ? "booked" : "closed"} bookingHref={bookingHref} user={user} />, { status: 410 });
    }
    if (error.status === 404) return renderPage(c, <OfferClosedPage reason="not-found" user={user} />, { status: 404 });
    throw error;
  }
});

waitlistPages.get("/waitlist-confirmations/:token", ...page, async (c) => {
  const token = c.req.param("token");
  const user = pageUser(c);
  const notFound = () => renderPage(c, <ConfirmationNotFoundPage user={user} />, { status: 404 });
  if (token.length > MAX_TOKEN) return notFound();
  const entry = await entryToConfirm(c, token).catch((error: unknown) => {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  });
  const session = entry ? await getPublicSession(getDb(c.env.DB), entry.sessionId) : undefined;
  if (!entry || !session) return notFound();
  return renderPage(
    c,
    <WaitlistConfirmPage
      entry={{
        token,
        className: session.class.name,
        studioName: session.studio.name,
        timeZone: session.studio.timeZone,
        sessionStartsAt: session.startsAt.toISOString(),
        seats: entry.guestCount,
        confirmed: entry.confirmed,
        position: entry.position,
        confirmBy: entry.confirmBy === null ? null : new Date(entry.confirmBy).toISOString(),
        inLine: entry.status === "waiting" || entry.status === "offered",
        waitlistHref: `/sessions/${encodeURIComponent(session.id)}/waitlist`,
      }}
      user={user}
    />,
  );
});

waitlistPages.get("/classes/:id/notify", ...page, async (c) => {
  const id = c.req.param("id");
  const place = ID.test(id) ? await classPlace(getDb(c.env.DB), id) : undefined;
  if (!place) return renderPage(c, <ClassNotFoundPage user={pageUser(c)} />, { status: 404 });
  return renderPage(c, <NotifyMePage klass={{ id, name: place.className, studioName: place.studioName }} user={pageUser(c)} />);
});
