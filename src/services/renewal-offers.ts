/**
 * Renewal reminders and renewal offers (the cron, src/jobs/certificates.ts, and the offer's
 * token routes). RENEWAL_REMINDER_DAYS before a certificate expires its holder is reminded, once,
 * and offered a seat: one seat held, in the session's Durable Object like any hold (so only the DO
 * decides it exists, DESIGN invariant 1), in the next suitable session of the class, for
 * RENEWAL_OFFER_HOURS. The offer's emailed token books it (through the normal booking path) or
 * releases it; an offer not taken is let go by the DO's alarm when its hold expires, and the cron
 * marks its row expired. A certificate is offered a seat at most once.
 */
import { and, eq, sql } from "drizzle-orm";
import { configOf } from "../config";
import type { Db } from "../db/client";
import { certificates, classes, classSessions, renewalOffers, studios } from "../db/schema";
import { offerExpiry, renewalOfferId, renewalReminderId, renewalWindow } from "../domain/certificates";
import { domainEvent, type DomainEvent } from "../domain/events";
import { quoteBooking } from "../domain/pricing";
import type { NotificationRequest } from "../domain/notifications";
import type { Env } from "../env";
import { ApiError } from "../errors";
import { ID_PREFIX } from "../lib/ids";
import { sha256Hex, signedToken } from "../lib/tokens";
import { seatLimits } from "./booking-limits";
import { type Caller, createBooking } from "./bookings";
import { emitEvents } from "./events";
import { queueNotifications } from "./notifications";
import { loadSnapshot, sessionObject } from "./session-client";

/** Certificates looked at per run by each scan (reminders, offers, expiries). */
export const RENEWAL_BATCH = 100;
/** Sessions tried per certificate (a full one, or one the holder already booked, is skipped). */
const SESSIONS_TRIED = 3;
const OFFER_TOKEN_PURPOSE = "renewal-offer";
/** Who the DO sees holding an offer's seat: the system, exempt from per-client caps. */
const SYSTEM_CLIENT = "system:renewal-offer";

interface Due {
  id: string;
  number: string;
  classId: string;
  customerId: string;
  holderName: string;
  expiresAt: number;
  email: string | null;
  className: string;
  studioName: string;
  timeZone: string;
}

/** Expiring, valid certificates with the holder's email and class; `which` narrows to those due a reminder or an offer. */
function dueCertificates(db: Db, now: number, reminderMs: number, which: "reminder" | "offer") {
  return db.all<Due>(sql`
    SELECT c.id AS id, c.number AS number, c.class_id AS classId, c.customer_id AS customerId, c.holder_name AS holderName, c.expires_at AS expiresAt,
      lower(coalesce(p.email, CASE WHEN substr(c.attendee_id, -2) = '.1' THEN cu.email END, own.email)) AS email,
      k.name AS className, st.name AS studioName, st.time_zone AS timeZone
    FROM certificates c
    JOIN classes k ON k.id = c.class_id
    JOIN studios st ON st.id = k.studio_id
    LEFT JOIN booking_attendees p ON p.booking_id = c.booking_id AND ('atd_' || substr(c.booking_id, 5) || '.' || p.position) = c.attendee_id
    LEFT JOIN bookings b ON b.id = c.booking_id
    LEFT JOIN customers cu ON cu.id = b.customer_id
    LEFT JOIN customers own ON own.id = c.customer_id
    WHERE c.status = 'valid' AND c.expires_at > ${now} AND c.expires_at <= ${now + reminderMs}
      ${
        which === "reminder"
          ? sql`AND c.renewal_reminder_sent_at IS NULL`
          : sql`AND NOT EXISTS (SELECT 1 FROM renewal_offers o WHERE o.certificate_id = c.id)
                AND coalesce(p.email, CASE WHEN substr(c.attendee_id, -2) = '.1' THEN cu.email END, own.email) IS NOT NULL`
      }
      -- Renewed already: the holder has a later certificate of the class.
      AND NOT EXISTS (SELECT 1 FROM certificates n WHERE n.customer_id = c.customer_id AND n.class_id = c.class_id AND n.status = 'valid'
                      AND n.id <> c.id AND (n.expires_at IS NULL OR n.expires_at > c.expires_at))
    ORDER BY c.expires_at
    LIMIT ${RENEWAL_BATCH}`);
}

/** Sends each due reminder once (queued first, then marked: a lost send is tried again next run). */
export async function sendRenewalReminders(env: Env, db: Db, now: Date): Promise<number> {
  const due = await dueCertificates(db, now.getTime(), configOf(env).renewalReminderMs, "reminder");
  const messages: NotificationRequest[] = due
    .filter((c) => c.email !== null)
    .map((c) => ({
      id: renewalReminderId(c.id),
      kind: "CERTIFICATE_EXPIRING",
      recipient: { email: c.email! },
      classId: c.classId,
      requestedAt: now.getTime(),
      data: { className: c.className, studioName: c.studioName, timeZone: c.timeZone, number: c.number, expiresAt: c.expiresAt, bookLinkPath: `/classes/${c.classId}` },
    }));
  if (!(await queueNotifications(env, messages))) return 0;
  if (due.length === 0) return 0;
  const marks = due.map((c) => db.update(certificates).set({ renewalReminderSentAt: now }).where(and(eq(certificates.id, c.id), sql`${certificates.renewalReminderSentAt} IS NULL`)));
  await db.batch(marks as [(typeof marks)[number], ...(typeof marks)[number][]]);
  return due.length;
}

/** The next bookable sessions of a class that can renew a certificate expiring at `expiresAt`. */
function suitableSessions(db: Db, classId: string, customerId: string, expiresAt: number, now: number) {
  const { startsAfter, startsBefore } = renewalWindow(expiresAt, now);
  return db.all<{ id: string; startsAt: number; pricePence: number }>(sql`
    SELECT s.id AS id, s.starts_at AS startsAt, k.price_pence AS pricePence
    FROM class_sessions s JOIN classes k ON k.id = s.class_id
    WHERE s.class_id = ${classId} AND s.status = 'scheduled' AND s.starts_at > ${startsAfter} AND s.starts_at <= ${startsBefore}
      AND EXISTS (SELECT 1 FROM json_each(k.booking_kinds) WHERE value = 'SINGLE_SESSION')
      AND EXISTS (SELECT 1 FROM staff i JOIN staff_teaching_roles r ON r.staff_id = i.id WHERE i.id = s.instructor_id AND i.active = 1 AND r.role_id = k.required_role_id)
      -- Booked a renewal already: no seat is held for someone who has one.
      AND NOT EXISTS (SELECT 1 FROM bookings b JOIN booking_sessions l ON l.booking_id = b.id AND l.status = 'confirmed'
                      JOIN class_sessions u ON u.id = l.session_id AND u.starts_at > ${now}
                      WHERE b.customer_id = ${customerId} AND b.class_id = ${classId} AND b.status = 'confirmed')
    ORDER BY s.starts_at, s.id
    LIMIT ${SESSIONS_TRIED}`);
}

/** The token of an offer: signed from its id, so a lost message can be sent again with the same link. Only its hash is stored. */
function offerToken(env: Env, offerId: string): Promise<string> {
  return signedToken(configOf(env).jwtSecret, OFFER_TOKEN_PURPOSE, [offerId]);
}

/** Holds a seat for each expiring certificate not offered one yet, where a suitable session has a seat. */
export async function makeRenewalOffers(env: Env, db: Db, now: Date): Promise<number> {
  const config = configOf(env);
  const due = await dueCertificates(db, now.getTime(), config.renewalReminderMs, "offer");
  let made = 0;
  for (const certificate of due) {
    if (certificate.email === null) continue;
    if (await offerSeat(env, db, certificate, certificate.email, now)) made += 1;
  }
  return made;
}

async function offerSeat(env: Env, db: Db, certificate: Due, email: string, now: Date): Promise<boolean> {
  const config = configOf(env);
  for (const session of await suitableSessions(db, certificate.classId, certificate.customerId, certificate.expiresAt, now.getTime())) {
    const snapshot = await loadSnapshot(db, session.id);
    if (!snapshot) continue;
    // Named by the certificate: two runs at once hold one seat (the DO answers a repeat with the same hold).
    const holdId = `hld_rn_${certificate.id.replace(/^crt_/, "")}`;
    const ttlMs = offerExpiry(now.getTime(), config.renewalOfferMs, session.startsAt) - now.getTime();
    if (ttlMs < 1000) continue;
    const answer = await sessionObject(env, session.id).reserve({
      reservationId: holdId,
      mode: "hold",
      seats: 1,
      email,
      clientKey: SYSTEM_CLIENT,
      exempt: true,
      overrideDuplicate: false,
      holdTtlMs: ttlMs,
      limits: seatLimits(env),
      snapshot,
    });
    // Full, or the holder already has a seat there: the next session.
    if (!answer.ok) continue;
    const offerId = `${ID_PREFIX.renewalOffer}_${certificate.id.replace(/^crt_/, "")}`;
    const token = await offerToken(env, offerId);
    const expiresAt = answer.reservation.expiresAt === null ? new Date(now.getTime() + ttlMs) : new Date(answer.reservation.expiresAt);
    let recorded: boolean;
    try {
      const inserted = await db
        .insert(renewalOffers)
        .values({ id: offerId, certificateId: certificate.id, customerId: certificate.customerId, email, sessionId: session.id, holdId, tokenHash: await sha256Hex(token), expiresAt })
        .onConflictDoNothing()
        .returning({ id: renewalOffers.id });
      recorded = inserted.length > 0;
    } catch (error) {
      // Not recorded, so nobody could accept it: the seat goes back at once.
      await sessionObject(env, session.id).release(holdId);
      throw error;
    }
    if (!recorded) {
      // Another run made the offer first: keep its seat, and let go of ours if it is in another session.
      const [first] = await db.select({ sessionId: renewalOffers.sessionId }).from(renewalOffers).where(eq(renewalOffers.id, offerId));
      if (first?.sessionId !== session.id) await sessionObject(env, session.id).release(holdId);
      return false;
    }
    const totalAmountPence = quoteOne(session.pricePence);
    await Promise.all([
      queueNotifications(env, [
        {
          id: renewalOfferId(offerId),
          kind: "RENEWAL_OFFER",
          recipient: { email },
          sessionId: session.id,
          classId: certificate.classId,
          requestedAt: now.getTime(),
          data: {
            className: certificate.className,
            studioName: certificate.studioName,
            timeZone: certificate.timeZone,
            number: certificate.number,
            sessionStartsAt: session.startsAt,
            offerExpiresAt: expiresAt.getTime(),
            offerLinkPath: `/renewal-offers/${token}`,
            totalAmountPence,
          },
        },
      ]),
      emitEvents(env, [
        withId(`evt_sent_${offerId}`, domainEvent("RENEWAL_OFFER_SENT", {
          occurredAt: now.getTime(),
          sessionId: session.id,
          classId: certificate.classId,
          customerId: certificate.customerId,
          seats: 1,
          data: { offerId, certificateId: certificate.id, expiresAt: expiresAt.getTime() },
        })),
      ]),
    ]);
    return true;
  }
  return false;
}

function withId(id: string, event: DomainEvent): DomainEvent {
  return { ...event, id };
}

function quoteOne(pricePence: number): number {
  const quote = quoteBooking({ registrationType: "SINGLE_SESSION", classPricePence: pricePence, fullSchedulePricePence: null, sessionCount: 1, seats: 1 });
  if (!quote.ok) throw new ApiError(quote.code, quote.message, quote.details);
  return quote.quote.totalPence;
}

/** Marks offers whose hold has ended (the DO's alarm let the seat go) expired, and makes sure the hold is released. */
export async function expireRenewalOffers(env: Env, db: Db, now: Date): Promise<number> {
  const ended = await db
    .select({ id: renewalOffers.id, sessionId: renewalOffers.sessionId, holdId: renewalOffers.holdId })
    .from(renewalOffers)
    .where(and(eq(renewalOffers.status, "offered"), sql`${renewalOffers.expiresAt} <= ${now.getTime()}`))
    .limit(RENEWAL_BATCH);
  for (const offer of ended) {
    await sessionObject(env, offer.sessionId).release(offer.holdId);
    await db
      .update(renewalOffers)
      .set({ status: "expired", updatedAt: now })
      .where(and(eq(renewalOffers.id, offer.id), eq(renewalOffers.status, "offered")));
  }
  return ended.length;
}

/** A revoked certificate renews nothing: its open offer's seat is let go and the offer declined. */
export async function withdrawRenewalOffers(env: Env, db: Db, certificateId: string): Promise<void> {
  const open = await db
    .select({ id: renewalOffers.id, sessionId: renewalOffers.sessionId, holdId: renewalOffers.holdId })
    .from(renewalOffers)
    .where(and(eq(renewalOffers.certificateId, certificateId), eq(renewalOffers.status, "offered")));
  for (const offer of open) {
    await sessionObject(env, offer.sessionId).release(offer.holdId);
    await db.update(renewalOffers).set({ status: "declined", updatedAt: new Date() }).where(and(eq(renewalOffers.id, offer.id), eq(renewalOffers.status, "offered")));
  }
}

// ---- the offer's token routes ----------------------------------------------------------------

async function offerByToken(db: Db, token: string) {
  const [offer] = await db
    .select({
      offer: renewalOffers,
      number: certificates.number,
      holderName: certificates.holderName,
      className: classes.name,
      studioName: studios.name,
      timeZone: studios.timeZone,
      startsAt: classSessions.startsAt,
      pricePence: classes.pricePence,
    })
    .from(renewalOffers)
    .innerJoin(certificates, eq(certificates.id, renewalOffers.certificateId))
    .innerJoin(classSessions, eq(classSessions.id, renewalOffers.sessionId))
    .innerJoin(classes, eq(classes.id, classSessions.classId))
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .where(eq(renewalOffers.tokenHash, await sha256Hex(token)));
  if (!offer) throw new ApiError("NOT_FOUND", "No renewal offer matches this token");
  return offer;
}

export type RenewalOfferView = Awaited<ReturnType<typeof showRenewalOffer>>;

/** What an offer's token shows: the session, until when the seat is held, its price and the offer's state. */
export async function showRenewalOffer(db: Db, token: string, now = Date.now()) {
  const found = await offerByToken(db, token);
  const open = found.offer.status === "offered" && found.offer.expiresAt.getTime() > now;
  return {
    id: found.offer.id,
    status: found.offer.status === "offered" && !open ? ("expired" as const) : found.offer.status,
    certificateNumber: found.number,
    className: found.className,
    studioName: found.studioName,
    timeZone: found.timeZone,
    sessionId: found.offer.sessionId,
    sessionStartsAt: found.startsAt.toISOString(),
    expiresAt: found.offer.expiresAt.toISOString(),
    totalAmountPence: quoteOne(found.pricePence),
    currency: "GBP" as const,
    bookingId: found.offer.bookingId,
  };
}

function notOpen(status: string): ApiError {
  return new ApiError("OFFER_NOT_AVAILABLE", `This renewal offer is no longer open (it is ${status})`, { status });
}

/** Books the held seat for the certificate's holder (source website), through the normal booking path. */
export async function acceptRenewalOffer(caller: Caller, token: string, payment: { totalAmountPence: number; currency: string }) {
  const found = await offerByToken(caller.db, token);
  const { offer } = found;
  // A keyed retry of an acceptance that went through goes on: the session's object replays it.
  const retry = offer.status === "accepted" && caller.idempotency !== undefined;
  if (!retry && (offer.status !== "offered" || offer.expiresAt.getTime() <= Date.now())) throw notOpen(offer.status === "offered" ? "expired" : offer.status);
  const [firstName, ...rest] = found.holderName.trim().split(/\s+/);
  const result = await createBooking(caller, {
    selection: { registrationType: "SINGLE_SESSION", sessionId: offer.sessionId },
    guestCount: 1,
    contact: { email: offer.email, firstName: firstName ?? "", lastName: rest.join(" ") },
    totalAmountPence: payment.totalAmountPence,
    currency: payment.currency,
    holdId: offer.holdId,
    source: "website",
  });
  await caller.db
    .update(renewalOffers)
    .set({ status: "accepted", bookingId: result.booking.id, updatedAt: new Date() })
    .where(and(eq(renewalOffers.id, offer.id), eq(renewalOffers.status, "offered")));
  return result;
}

/** Lets the held seat go at once; the offer is declined. */
export async function declineRenewalOffer(env: Env, db: Db, token: string) {
  const { offer } = await offerByToken(db, token);
  if (offer.status !== "offered") throw notOpen(offer.status);
  await sessionObject(env, offer.sessionId).release(offer.holdId);
  await db
    .update(renewalOffers)
    .set({ status: "declined", updatedAt: new Date() })
    .where(and(eq(renewalOffers.id, offer.id), eq(renewalOffers.status, "offered")));
  return showRenewalOffer(db, token);
}
