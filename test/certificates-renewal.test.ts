/** Renewal reminders (once) and renewal offers: a seat held in the next suitable session, booked by accepting, released by declining or expiry. */
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { expireRenewalOffers, makeRenewalOffers, sendRenewalReminders } from "../src/services/renewal-offers";
import { availability, expireHolds, nextClientIp, projectionCaughtUp, reservationIn, sessionStub, singleBookingBody, postBooking } from "./booking-helpers";
import { DAY, makeCertificate } from "./certificates-helpers";
import { makeBookableSession, makeClass, makeCustomer, makeSession } from "./fixtures";
import { call, eventually, tokenFor } from "./helpers";
import { newestMessage } from "./sign-in-helpers";

const db = () => getDb(env.DB);

async function offersOf(certificateId: string) {
  return (await env.DB.prepare("SELECT * FROM renewal_offers WHERE certificate_id = ?").bind(certificateId).all<Record<string, unknown>>()).results;
}

/** A bookable session of a class and a certificate of that class expiring in `expiresInDays`, held by a customer with an email. */
async function expiringCertificate(options: { expiresInDays?: number; capacity?: number; startsInHours?: number } = {}) {
  const { session, klass } = await makeBookableSession({ capacity: options.capacity ?? 12, startsInHours: options.startsInHours ?? 24 * 5 });
  const holder = await makeCustomer();
  const certificate = await makeCertificate(klass.id, { customerId: holder.id, expiresAt: Date.now() + (options.expiresInDays ?? 10) * DAY });
  return { session, klass, holder, certificate };
}

async function offerToken(email: string): Promise<string> {
  const message = await newestMessage(email, /seat is held for you to renew/i);
  const token = /\/renewal-offers\/([A-Za-z0-9._-]+)/.exec(message.text)?.[1];
  expect(token, message.text).toBeTruthy();
  return token!;
}

describe("renewal reminders", () => {
  it("are sent RENEWAL_REMINDER_DAYS before expiry, once", async () => {
    const klass = await makeClass();
    const [holder, other] = [await makeCustomer(), await makeCustomer()];
    const now = Date.now();
    const due = await makeCertificate(klass.id, { customerId: holder.id, expiresAt: now + 30 * DAY });
    const notYet = await makeCertificate(klass.id, { customerId: other.id, expiresAt: now + 30 * DAY + 60_000 });
    await sendRenewalReminders(env, db(), new Date(now));
    const sentAt = async (id: string) => (await env.DB.prepare("SELECT renewal_reminder_sent_at AS at FROM certificates WHERE id = ?").bind(id).first<{ at: number | null }>())!.at;
    expect(await sentAt(due.id)).toBe(now);
    expect(await sentAt(notYet.id)).toBeNull();
    const message = await newestMessage(holder.email, /certificate expires/i);
    expect(message.text).toContain(due.number);
    // Again: nothing new for the first; the second is due now.
    await sendRenewalReminders(env, db(), new Date(now + 120_000));
    expect(await sentAt(due.id)).toBe(now);
    expect(await sentAt(notYet.id)).toBe(now + 120_000);
    await newestMessage(other.email, /certificate expires/i);
    const mailbox = await call("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(holder.email)}`);
    expect(mailbox.json.data.filter((m: { subject: string }) => /certificate expires/i.test(m.subject))).toHaveLength(1);
  });

  it("are not sent for a revoked certificate, one that never expires, or one already renewed", async () => {
    const klass = await makeClass();
    const holder = await makeCustomer();
    const now = Date.now();
    const revoked = await makeCertificate(klass.id, { customerId: holder.id, expiresAt: now + DAY, status: "revoked" });
    const never = await makeCertificate(klass.id, { customerId: holder.id, expiresAt: null });
    const renewed = await makeCertificate(klass.id, { customerId: holder.id, expiresAt: now + 2 * DAY });
    await makeCertificate(klass.id, { customerId: holder.id, expiresAt: now + 400 * DAY });
    await sendRenewalReminders(env, db(), new Date(now));
    for (const id of [revoked.id, never.id, renewed.id]) {
      expect((await env.DB.prepare("SELECT renewal_reminder_sent_at AS at FROM certificates WHERE id = ?").bind(id).first<{ at: number | null }>())!.at).toBeNull();
    }
  });
});

describe("renewal offers", () => {
  it("hold one seat in the next suitable session (the DO's availability drops by one), emit RENEWAL_OFFER_SENT and email the link", async () => {
    const { session, holder, certificate } = await expiringCertificate();
    const before = await availability(session.id);
    expect(await makeRenewalOffers(env, db(), new Date())).toBeGreaterThanOrEqual(1);
    const [offer] = await offersOf(certificate.id);
    expect(offer).toMatchObject({ session_id: session.id, status: "offered", email: holder.email, customer_id: holder.id });
    expect((await availability(session.id)).availableSpots).toBe(before.availableSpots - 1);
    expect(await reservationIn(session.id, offer!.hold_id as string)).toMatchObject({ status: "held", seats: 1, email: holder.email });
    // Held for RENEWAL_OFFER_HOURS (48), then let go.
    expect(offer!.expires_at as number).toBeGreaterThan(Date.now() + 47 * 3600_000);
    const token = await offerToken(holder.email);
    const { json } = await call("GET", `/api/v1/renewal-offers/${token}`);
    expect(json).toMatchObject({ status: "offered", certificateNumber: certificate.number, sessionId: session.id, totalAmountPence: 2500, currency: "GBP" });
    const page = await call("GET", `/renewal-offers/${token}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(certificate.number);
    expect(page.text).toContain(`data-offer-api="/api/v1/renewal-offers/${token}"`);
    expect(page.text.match(/<h1[\s>]/g)).toHaveLength(1);
    expect((await call("GET", "/renewal-offers/nope")).status).toBe(404);
    // Only the hash of the token is stored.
    expect(JSON.stringify(offer)).not.toContain(token);
    await eventually(async () => (await env.DB.prepare("SELECT data FROM events WHERE type = 'RENEWAL_OFFER_SENT' AND session_id = ?").bind(session.id).first()) !== null);
    // Offered once: another run holds nothing more.
    await makeRenewalOffers(env, db(), new Date());
    expect(await offersOf(certificate.id)).toHaveLength(1);
    expect((await availability(session.id)).availableSpots).toBe(before.availableSpots - 1);
  });

  it("two runs at once hold one seat and record one offer, though a second suitable session has seats too", async () => {
    // The DO refuses the same email twice in one session, so a run that lost the race would try the
    // next session: the hold named by the certificate is what keeps it to one seat in all.
    const { session, klass, certificate } = await expiringCertificate();
    const second = await makeSession(klass.id, { startsAt: new Date(session.startsAt.getTime() + DAY), instructorId: session.instructorId, capacity: 5 });
    const before = [(await availability(session.id)).availableSpots, (await availability(second.id)).availableSpots];
    const now = new Date();
    await Promise.all([makeRenewalOffers(env, db(), now), makeRenewalOffers(env, db(), now), makeRenewalOffers(env, db(), now)]);
    expect(await offersOf(certificate.id)).toHaveLength(1);
    const after = [(await availability(session.id)).availableSpots, (await availability(second.id)).availableSpots];
    expect(before[0]! + before[1]! - after[0]! - after[1]!).toBe(1);
  });

  it("accepting books the held seat for the holder (source website); a second accept is refused", async () => {
    const { session, holder, certificate } = await expiringCertificate();
    await makeRenewalOffers(env, db(), new Date());
    const token = await offerToken(holder.email);
    const held = (await availability(session.id)).availableSpots;
    const accepted = await call("POST", `/api/v1/renewal-offers/${token}/accept`, { body: { totalAmountPence: 2500, currency: "GBP" }, headers: { "CF-Connecting-IP": nextClientIp() } });
    expect(accepted.status).toBe(201);
    expect(accepted.json.booking).toMatchObject({ source: "website", customer: { email: holder.email } });
    expect((await availability(session.id)).availableSpots).toBe(held);
    await projectionCaughtUp(session.id);
    const booking = await env.DB.prepare("SELECT customer_id, source, status FROM bookings WHERE id = ?").bind(accepted.json.booking.id).first();
    // The holder's own profile (matched by email): the booking is theirs, and so is the renewal's certificate.
    expect(booking).toEqual({ customer_id: holder.id, source: "website", status: "confirmed" });
    expect((await offersOf(certificate.id))[0]).toMatchObject({ status: "accepted", booking_id: accepted.json.booking.id });
    const again = await call("POST", `/api/v1/renewal-offers/${token}/accept`, { body: { totalAmountPence: 2500, currency: "GBP" }, headers: { "CF-Connecting-IP": nextClientIp() } });
    expect(again.status).toBe(409);
    expect(again.json.error.code).toBe("OFFER_NOT_AVAILABLE");
  });

  it("a wrong price is refused and the seat stays held; declining releases it at once", async () => {
    const { session, holder, certificate } = await expiringCertificate();
    const before = (await availability(session.id)).availableSpots;
    await makeRenewalOffers(env, db(), new Date());
    const token = await offerToken(holder.email);
    const wrong = await call("POST", `/api/v1/renewal-offers/${token}/accept`, { body: { totalAmountPence: 1, currency: "GBP" }, headers: { "CF-Connecting-IP": nextClientIp() } });
    expect(wrong.status).toBe(422);
    expect((await availability(session.id)).availableSpots).toBe(before - 1);
    const declined = await call("POST", `/api/v1/renewal-offers/${token}/decline`);
    expect(declined.status).toBe(200);
    expect(declined.json.status).toBe("declined");
    expect((await availability(session.id)).availableSpots).toBe(before);
    expect((await offersOf(certificate.id))[0]).toMatchObject({ status: "declined" });
    expect((await call("POST", `/api/v1/renewal-offers/${token}/decline`)).status).toBe(409);
    expect((await call("POST", `/api/v1/renewal-offers/${token}/accept`, { body: { totalAmountPence: 2500, currency: "GBP" } })).status).toBe(409);
  });

  it("an offer not taken: the DO's alarm releases the seat when the hold expires, and the cron marks it expired", async () => {
    const { session, holder, certificate } = await expiringCertificate();
    const before = (await availability(session.id)).availableSpots;
    await makeRenewalOffers(env, db(), new Date());
    const [offer] = await offersOf(certificate.id);
    await expireHolds(session.id);
    expect(await runDurableObjectAlarm(sessionStub(session.id))).toBe(true);
    expect((await availability(session.id)).availableSpots).toBe(before);
    expect(await reservationIn(session.id, offer!.hold_id as string)).toMatchObject({ status: "released" });
    await expireRenewalOffers(env, db(), new Date((offer!.expires_at as number) + 1));
    expect((await offersOf(certificate.id))[0]).toMatchObject({ status: "expired" });
    const token = await offerToken(holder.email);
    expect((await call("GET", `/api/v1/renewal-offers/${token}`)).json.status).toBe("expired");
    expect((await call("POST", `/api/v1/renewal-offers/${token}/accept`, { body: { totalAmountPence: 2500, currency: "GBP" } })).status).toBe(409);
  });

  it("skips a full session for the next one, and never holds a seat in one starting well after the expiry", async () => {
    const { session: full, klass, certificate } = await expiringCertificate({ capacity: 1, startsInHours: 24 });
    expect((await postBooking(singleBookingBody(full.id, 2500))).status).toBe(201);
    const next = await makeSession(klass.id, { startsAt: new Date(Date.now() + 3 * DAY), instructorId: full.instructorId, capacity: 5 });
    await makeRenewalOffers(env, db(), new Date());
    expect((await offersOf(certificate.id)).map((o) => o.session_id)).toEqual([next.id]);

    const late = await expiringCertificate({ expiresInDays: 5, startsInHours: 24 * 30 });
    await makeRenewalOffers(env, db(), new Date());
    expect(await offersOf(late.certificate.id)).toEqual([]);
  });

  it("a keyed retry of an accepted offer replays the booking; revoking a certificate lets its held seat go", async () => {
    const { holder } = await expiringCertificate();
    await makeRenewalOffers(env, db(), new Date());
    const token = await offerToken(holder.email);
    const headers = { "CF-Connecting-IP": "203.0.113.77", "Idempotency-Key": `renew-${crypto.randomUUID()}` };
    const body = { totalAmountPence: 2500, currency: "GBP" };
    const first = await call("POST", `/api/v1/renewal-offers/${token}/accept`, { body, headers });
    expect(first.status).toBe(201);
    const retry = await call("POST", `/api/v1/renewal-offers/${token}/accept`, { body, headers });
    expect(retry.status).toBe(201);
    expect(retry.json.booking.id).toBe(first.json.booking.id);
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");

    const other = await expiringCertificate();
    const before = (await availability(other.session.id)).availableSpots;
    await makeRenewalOffers(env, db(), new Date());
    expect((await availability(other.session.id)).availableSpots).toBe(before - 1);
    const admin = await tokenFor("admin");
    expect((await call("POST", `/api/v1/admin/certificates/${other.certificate.id}/revoke`, { token: admin })).status).toBe(200);
    expect((await availability(other.session.id)).availableSpots).toBe(before);
    expect((await offersOf(other.certificate.id))[0]).toMatchObject({ status: "declined" });
  });

  it("unknown tokens are 404; a bad body is 400", async () => {
    expect((await call("GET", "/api/v1/renewal-offers/nope")).status).toBe(404);
    expect((await call("POST", "/api/v1/renewal-offers/nope/decline")).status).toBe(404);
    expect((await call("POST", "/api/v1/renewal-offers/nope/accept", { body: { totalAmountPence: 2500, currency: "GBP" } })).status).toBe(404);
    expect((await call("POST", "/api/v1/renewal-offers/nope/accept", { body: { currency: "GBP" } })).status).toBe(400);
  });
});
