/**
 * Certificates and renewal offers made the way the service makes them: a class that gives
 * certificates, its session starting within check-in time, the holders booked and checked in by
 * staff, then the hourly job, fired through wrangler dev's scheduled-event trigger
 * (`/cdn-cgi/local/scheduled`, open in local dev) at an instant after the session has ended. That
 * one run issues the certificates and, as they expire within RENEWAL_REMINDER_DAYS, holds each
 * holder a seat on the class's next session and emails the offer's link.
 */
import { expect } from "vitest";
import { admin, baseUrl, eventually, linkIn, newestMessage } from "./api";
import { bookAsGuest, freshClass, type GuestBooking, type SceneClass } from "./scene";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/** The hourly cron of wrangler.toml (src/jobs/scheduled.ts HOURLY): certificates and renewals. */
export const HOURLY_CRON = "0 * * * *";
/** Short enough that a new certificate is already within the default 30 reminder days. */
const VALIDITY_DAYS = 10;

export interface IssuedCertificate {
  id: string;
  number: string;
  verificationPath: string;
  holderEmail: string;
  booking: GuestBooking;
  /** The path of the renewal offer's page, from the holder's email. */
  offerPath: string;
}

export interface CertifiedClass {
  scene: SceneClass;
  /** The session the renewal seats are held on. */
  renewalSessionId: string;
  certificates: IssuedCertificate[];
}

/** Fires the cron `cron` as if it were `at` (ms), as Cron Triggers would; throws unless every job succeeded. */
export async function runCron(cron: string, at: number): Promise<void> {
  const response = await fetch(`${baseUrl}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}&time=${at}&format=json`, { signal: AbortSignal.timeout(60_000) });
  expect(response.status, `the scheduled run of "${cron}" answered ${response.status}: ${await response.clone().text()} (see test-output/e2e-service.log)`).toBe(200);
}

/** A class whose session is attended by `holders` (one guest booking each) and certified by the hourly job. */
export async function certifiedClass(holders: string[]): Promise<CertifiedClass> {
  // Check-in opens CHECK_IN_OPENS_MINUTES (60) before the start, and booking closes at it.
  const startsAt = Math.ceil((Date.now() + 30 * MINUTE) / MINUTE) * MINUTE;
  const scene = await freshClass({ capacity: holders.length, startsAt: [startsAt, startsAt + 3 * DAY], certificateValidityDays: VALIDITY_DAYS, label: "certificates" });
  const [sessionId, renewalSessionId] = scene.sessionIds as [string, string];
  const bookings = await Promise.all(holders.map((email) => bookAsGuest(sessionId, scene.pricePence, 1, email)));

  // The roster is read from D1, which the session's object brings up to date just after answering.
  const roster = await eventually(async () => {
    const entries = (await admin("GET", `/sessions/${sessionId}/roster`)).json.data as { attendeeId: string }[];
    return entries.length === holders.length && entries;
  }, 20_000, "the holders on the roster");
  await admin("POST", `/sessions/${sessionId}/roster/check-in`, { attendeeIds: roster.map((entry) => entry.attendeeId) });

  const since = Date.now();
  // The session lasts 60 minutes: half an hour after its end it is complete.
  await runCron(HOURLY_CRON, startsAt + 90 * MINUTE);
  const issued = (await admin("GET", `/certificates?classId=${encodeURIComponent(scene.classId)}`)).json.data as {
    id: string;
    number: string;
    bookingId: string;
    verificationPath: string;
  }[];
  expect(issued, "one certificate per checked-in holder").toHaveLength(holders.length);

  const certificates = await Promise.all(
    bookings.map(async (booking) => {
      const certificate = issued.find((candidate) => candidate.bookingId === booking.bookingId);
      expect(certificate, `a certificate for booking ${booking.bookingId}`).toBeTruthy();
      const offerMail = await newestMessage(booking.email, /a seat is held for you to renew/i, since);
      return {
        id: certificate!.id,
        number: certificate!.number,
        verificationPath: certificate!.verificationPath,
        holderEmail: booking.email,
        booking,
        offerPath: linkIn(offerMail.text, "/renewal-offers/"),
      };
    }),
  );
  return { scene, renewalSessionId, certificates };
}
