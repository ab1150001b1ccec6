/** Issuing certificates by cron: the completion share at its boundary, once per attendee and class, numbers, expiry, event and email. */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { renderNotification } from "../src/domain/notification-templates";
import { announceMissing, issuedEventId, issueDueCertificates } from "../src/services/certificate-issuing";
import { HOURLY } from "../src/jobs/scheduled";
import { attend, bookAll, certificateClass, certificatesOf, DAY, makeCertificate } from "./certificates-helpers";
import { eventuallyPasses } from "./helpers";
import { newestMessage } from "./sign-in-helpers";

const db = () => getDb(env.DB);
const worker = exports.default as unknown as { scheduled(options: { cron: string; scheduledTime: number }): Promise<unknown> };

describe("issuing certificates", () => {
  it("issues at the class's share and not one session below it (4 sessions at 50 %: 1 is not enough, 2 is)", async () => {
    const { klass, sessions } = await certificateClass({ sessions: 4, percent: 50 });
    const ids = sessions.map((s) => s.id);
    const below = await bookAll(klass.id, ids);
    const at = await bookAll(klass.id, ids);
    await attend(below.bookingId, ids.slice(0, 1));
    await attend(at.bookingId, ids.slice(0, 2));
    await issueDueCertificates(env, db(), new Date());
    const issued = await certificatesOf(klass.id);
    expect(issued.map((c) => c.bookingId)).toEqual([at.bookingId]);
    expect(issued[0]).toMatchObject({ customerId: at.customer.id, holderName: "Ada Customer", status: "valid" });
  });

  it("uses CERTIFICATE_COMPLETION_PERCENT (100) when the class sets none: 2 of 3 is not enough, 3 of 3 is", async () => {
    const { klass, sessions } = await certificateClass({ sessions: 3, percent: null });
    const ids = sessions.map((s) => s.id);
    const twoOfThree = await bookAll(klass.id, ids);
    const all = await bookAll(klass.id, ids);
    await attend(twoOfThree.bookingId, ids.slice(0, 2));
    await attend(all.bookingId, ids);
    await issueDueCertificates(env, db(), new Date());
    expect((await certificatesOf(klass.id)).map((c) => c.bookingId)).toEqual([all.bookingId]);
  });

  it("waits until the booking's last session has ended, and ignores no-shows", async () => {
    const { klass, sessions } = await certificateClass({ sessions: 2, percent: 50, endedHoursAgo: -1 });
    const ids = sessions.map((s) => s.id);
    const booking = await bookAll(klass.id, ids);
    const noShow = await bookAll(klass.id, ids);
    await attend(booking.bookingId, ids.slice(0, 1));
    await attend(noShow.bookingId, ids, 1, "no_show");
    await issueDueCertificates(env, db(), new Date());
    expect(await certificatesOf(klass.id)).toEqual([]);
    // An hour and a bit later the last session has ended.
    await issueDueCertificates(env, db(), new Date(Date.now() + 2 * 3600_000));
    expect((await certificatesOf(klass.id)).map((c) => c.bookingId)).toEqual([booking.bookingId]);
  });

  it("issues once per attendee and class however often it runs, even two runs at once; numbers are unique CERT-<year>-<7 digits>", async () => {
    const { klass, sessions } = await certificateClass({ sessions: 1 });
    const a = await bookAll(klass.id, [sessions[0]!.id]);
    const b = await bookAll(klass.id, [sessions[0]!.id]);
    await attend(a.bookingId, [sessions[0]!.id]);
    await attend(b.bookingId, [sessions[0]!.id]);
    const now = new Date();
    await Promise.all([issueDueCertificates(env, db(), now), issueDueCertificates(env, db(), now)]);
    await issueDueCertificates(env, db(), now);
    const issued = await certificatesOf(klass.id);
    expect(issued).toHaveLength(2);
    const year = now.getUTCFullYear();
    for (const c of issued) expect(c.number).toMatch(new RegExp(`^CERT-${year}-\\d{7}$`));
    expect(new Set(issued.map((c) => c.number)).size).toBe(2);
    expect(new Set(issued.map((c) => c.verificationCode)).size).toBe(2);
  });

  it("expires validity days after issue, or never for 0; a class without validity gives none", async () => {
    const yearLong = await certificateClass({ sessions: 1, validityDays: 365 });
    const forever = await certificateClass({ sessions: 1, validityDays: 0 });
    const none = await certificateClass({ sessions: 1, validityDays: null });
    for (const { klass, sessions } of [yearLong, forever, none]) {
      const booking = await bookAll(klass.id, [sessions[0]!.id]);
      await attend(booking.bookingId, [sessions[0]!.id]);
    }
    const now = new Date();
    await issueDueCertificates(env, db(), now);
    const [expiring] = await certificatesOf(yearLong.klass.id);
    expect(expiring!.issuedAt.getTime()).toBe(now.getTime());
    expect(expiring!.expiresAt!.getTime()).toBe(now.getTime() + 365 * DAY);
    const [never] = await certificatesOf(forever.klass.id);
    expect(never!.expiresAt).toBeNull();
    expect(await certificatesOf(none.klass.id)).toEqual([]);
  });

  it("names the attendee as named on the booking, and skips an unnamed guest", async () => {
    const { klass, sessions } = await certificateClass({ sessions: 1 });
    const booking = await bookAll(klass.id, [sessions[0]!.id], 3);
    const { bookingAttendees } = await import("../src/db/schema");
    await db().insert(bookingAttendees).values([
      { id: `atd_named_${booking.bookingId}`, bookingId: booking.bookingId, position: 2, name: "Grace Hopper", email: null },
      { id: `atd_unnamed_${booking.bookingId}`, bookingId: booking.bookingId, position: 3, name: null, email: null },
    ]);
    await attend(booking.bookingId, [sessions[0]!.id], 2);
    await attend(booking.bookingId, [sessions[0]!.id], 3);
    await issueDueCertificates(env, db(), new Date());
    const issued = await certificatesOf(klass.id);
    expect(issued.map((c) => c.holderName)).toEqual(["Grace Hopper"]);
    // No email of their own: the booker's customer holds it.
    expect(issued[0]!.customerId).toBe(booking.customer.id);
  });

  it("the hourly cron issues it, emits CERTIFICATE_ISSUED with {certificateId, number, attendeeId} and emails the holder both links", async () => {
    const { klass, sessions } = await certificateClass({ sessions: 1 });
    const booking = await bookAll(klass.id, [sessions[0]!.id]);
    await attend(booking.bookingId, [sessions[0]!.id]);
    await worker.scheduled({ cron: HOURLY, scheduledTime: Date.now() });
    const [certificate] = await certificatesOf(klass.id);
    expect(certificate).toBeDefined();
    const event = await eventuallyPasses(async () => {
      const row = await env.DB.prepare(`SELECT type, class_id, customer_id, data FROM events WHERE type = 'CERTIFICATE_ISSUED' AND class_id = ?`).bind(klass.id).first<{ data: string }>();
      expect(row).not.toBeNull();
      return row!;
    });
    expect(JSON.parse(event.data)).toEqual({ certificateId: certificate!.id, number: certificate!.number, attendeeId: certificate!.attendeeId });
    const message = await newestMessage(booking.customer.email, /certificate/i);
    expect(message.text).toContain(certificate!.number);
    expect(message.text).toContain(`/certificates/${certificate!.id}`);
    expect(message.text).toContain(`/certificates/verify/${certificate!.verificationCode}`);
  });

  it("announces again a certificate whose event never reached D1 (a lost Queue send), once it is an hour old", async () => {
    const { klass } = await certificateClass({ sessions: 1 });
    const holder = await bookAll(klass.id, []);
    const now = Date.now();
    const lost = await makeCertificate(klass.id, { customerId: holder.customer.id, expiresAt: null, issuedAt: now - 2 * 3600_000 });
    const fresh = await makeCertificate(klass.id, { customerId: holder.customer.id, expiresAt: null, issuedAt: now - 60_000 });
    expect(await announceMissing(env, db(), new Date(now))).toBeGreaterThanOrEqual(1);
    await eventuallyPasses(async () => {
      const row = await env.DB.prepare("SELECT data FROM events WHERE id = ?").bind(issuedEventId(lost.id)).first<{ data: string }>();
      expect(JSON.parse(row!.data)).toMatchObject({ certificateId: lost.id, number: lost.number });
    });
    expect(await env.DB.prepare("SELECT id FROM events WHERE id = ?").bind(issuedEventId(fresh.id)).first()).toBeNull();
  });
});

describe("certificate messages", () => {
  const base = { className: "Wheel throwing", studioName: "Clay Studio", timeZone: "Europe/London", number: "CERT-2026-0000007" };
  const render = (kind: "CERTIFICATE_ISSUED" | "CERTIFICATE_EXPIRING" | "RENEWAL_OFFER", data: Record<string, unknown>) =>
    renderNotification({ kind, data: { ...base, ...data }, recipient: { firstName: "Ada" }, baseUrl: "https://book.example.com" });

  it("render each kind with its links on the public origin, and refuse data that does not fit", () => {
    const issued = render("CERTIFICATE_ISSUED", { holderName: "Ada Lovelace", issuedAt: Date.UTC(2026, 5, 1), expiresAt: Date.UTC(2027, 5, 1), certificateLinkPath: "/certificates/crt_1", verifyLinkPath: "/certificates/verify/abc" });
    expect(issued.ok && issued.message.text).toContain("https://book.example.com/certificates/verify/abc");
    expect(issued.ok && issued.message.subject).toContain("CERT-2026-0000007");
    const forever = render("CERTIFICATE_ISSUED", { holderName: "Ada Lovelace", issuedAt: 1, certificateLinkPath: "/c", verifyLinkPath: "/v" });
    expect(forever.ok && forever.message.text).toContain("It does not expire.");
    const expiring = render("CERTIFICATE_EXPIRING", { expiresAt: Date.UTC(2026, 6, 1), bookLinkPath: "/classes/cls_1" });
    expect(expiring.ok && expiring.message.text).toContain("https://book.example.com/classes/cls_1");
    const offer = render("RENEWAL_OFFER", { sessionStartsAt: Date.UTC(2026, 6, 1, 9), offerExpiresAt: Date.UTC(2026, 5, 20), offerLinkPath: "/renewal-offers/tok", totalAmountPence: 2500 });
    expect(offer.ok && offer.message.text).toContain("£25.00");
    expect(render("RENEWAL_OFFER", { sessionStartsAt: 1, offerExpiresAt: 1, offerLinkPath: "https://evil.example/x" }).ok).toBe(false);
    expect(render("CERTIFICATE_ISSUED", { holderName: "", issuedAt: 1, certificateLinkPath: "/c", verifyLinkPath: "/v" }).ok).toBe(false);
  });
});
