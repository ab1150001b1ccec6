import { describe, expect, it } from "vitest";
import { formatPence, maskLinkTokens, renderNotification, shortWhen, when } from "../src/domain/notification-templates";

// 14 March 2026 18:00 in London is GMT; 14 June 2026 18:00 is BST (17:00 UTC).
const MARCH_18_LONDON = Date.parse("2026-03-14T18:00:00Z");
const JUNE_18_LONDON = Date.parse("2026-06-14T17:00:00Z");

/** The origin links are built on (PUBLIC_BASE_URL in the Worker). */
const BASE = "https://book.example.test";

const render = (kind: Parameters<typeof renderNotification>[0]["kind"], data: unknown, firstName: string | null = "Ada", bookingId?: string) =>
  renderNotification({ kind, data, recipient: { firstName }, bookingId, baseUrl: BASE });

function rendered(result: ReturnType<typeof renderNotification>) {
  if (!result.ok) throw new Error(result.error);
  return result.message;
}

describe("formatting", () => {
  it("shows pence as pounds", () => {
    expect(formatPence(1250)).toBe("£12.50");
    expect(formatPence(5)).toBe("£0.05");
    expect(formatPence(0)).toBe("£0.00");
    expect(formatPence(123450)).toBe("£1,234.50");
  });

  it("shows instants on the studio's wall clock with its zone, across daylight saving", () => {
    expect(when(MARCH_18_LONDON, "Europe/London")).toBe("Saturday 14 March 2026, 18:00 GMT");
    expect(when(JUNE_18_LONDON, "Europe/London")).toBe("Sunday 14 June 2026, 18:00 BST");
    expect(when(JUNE_18_LONDON, undefined)).toBe("Sunday 14 June 2026, 17:00 UTC");
    expect(shortWhen(JUNE_18_LONDON, "Europe/London")).toBe("Sun 14 Jun, 18:00");
  });

  it("masks token query parameters in links, and only those", () => {
    expect(maskLinkTokens("View: /api/v1/bookings/bkg_1?token=abc-DEF_123 now")).toBe("View: /api/v1/bookings/bkg_1?token=[redacted] now");
    expect(maskLinkTokens("/x?a=1&offerToken=s3cret&b=2")).toBe("/x?a=1&offerToken=[redacted]&b=2");
    expect(maskLinkTokens("Claim: /api/v1/waitlist-offers/wle_1.1.sig-_x/decline")).toBe("Claim: /api/v1/waitlist-offers/[redacted]/decline");
    expect(maskLinkTokens("/x?page=2")).toBe("/x?page=2");
  });
});

describe("renderNotification", () => {
  const place = { className: "Wheel Basics", studioName: "Clay Studio", timeZone: "Europe/London" };

  it("BOOKING_CONFIRMED: sessions in the studio's zone, seats, total and the manage link", () => {
    const message = rendered(
      render(
        "BOOKING_CONFIRMED",
        {
          ...place,
          sessions: [{ sessionId: "ses_2", startsAt: new Date(JUNE_18_LONDON).toISOString() }, { startsAt: MARCH_18_LONDON }],
          seats: 2,
          totalAmountPence: 5000,
          manageLinkPath: "/api/v1/bookings/bkg_1?token=t0k",
        },
        "Ada",
        "bkg_1",
      ),
    );
    expect(message.template).toEqual({ name: "booking-confirmed", version: 1 });
    expect(message.subject).toBe("Booking confirmed: Wheel Basics, Sat 14 Mar, 18:00");
    expect(message.text).toBe(
      [
        "Hi Ada,",
        "",
        "Your booking for Wheel Basics at Clay Studio is confirmed.",
        "",
        "Sessions (2):",
        "- Saturday 14 March 2026, 18:00 GMT",
        "- Sunday 14 June 2026, 18:00 BST",
        "",
        "Seats: 2",
        "Total paid: £50.00",
        "",
        "Booking reference: bkg_1",
        "",
        "View or cancel your booking: https://book.example.test/api/v1/bookings/bkg_1?token=t0k",
        "",
      ].join("\n"),
    );
  });

  it("BOOKING_CONFIRMED lists at most ten sessions and summarises the rest", () => {
    const sessions = Array.from({ length: 13 }, (_, i) => ({ startsAt: MARCH_18_LONDON + i * 7 * 86_400_000 }));
    const message = rendered(render("BOOKING_CONFIRMED", { ...place, sessions, seats: 1, totalAmountPence: 12000, manageLinkPath: "/b" }));
    expect(message.text).toContain("Sessions (13):");
    expect(message.text.match(/^- \w+day /gm)).toHaveLength(10);
    expect(message.text).toContain("- and 3 more");
  });

  it("BOOKING_CANCELLED: what was cancelled, with or without its sessions", () => {
    const message = rendered(
      render("BOOKING_CANCELLED", { ...place, sessions: [{ startsAt: MARCH_18_LONDON }], seats: 1, totalAmountPence: 2500 }, null, "bkg_9"),
    );
    expect(message.template.name).toBe("booking-cancelled");
    expect(message.subject).toBe("Booking cancelled: Wheel Basics, Sat 14 Mar, 18:00");
    expect(message.text).toMatch(/^Hello,\n/);
    expect(message.text).toContain("Your booking for Wheel Basics at Clay Studio (reference bkg_9) has been cancelled, and its 1 seat released.");
    expect(message.text).toContain("Session:\n- Saturday 14 March 2026, 18:00 GMT");
    expect(message.text).toContain("Booking total: £25.00");
    expect(message.text).not.toContain("View the booking");

    const bare = rendered(render("BOOKING_CANCELLED", { className: "Glaze", sessions: [], seats: 3 }));
    expect(bare.subject).toBe("Booking cancelled: Glaze");
    expect(bare.text).toContain("its 3 seats released");
    expect(bare.text).not.toContain("Session");
  });

  it("OFFER_MADE: the held seats, the deadline, the price and the claim link", () => {
    const message = rendered(
      render("OFFER_MADE", {
        ...place,
        sessionStartsAt: JUNE_18_LONDON,
        seats: 2,
        offerExpiresAt: "2026-06-13T09:30:00Z",
        acceptLinkPath: "/api/v1/waitlist/wl_1/accept?token=abc",
        totalAmountPence: 4999,
      }),
    );
    expect(message.template.name).toBe("offer-made");
    expect(message.subject).toBe("A place is free: Wheel Basics, Sun 14 Jun, 18:00");
    expect(message.text).toContain("for Wheel Basics on Sunday 14 June 2026, 18:00 BST at Clay Studio.");
    expect(message.text).toContain("We are holding 2 seats for you until Saturday 13 June 2026, 10:30 BST. Price: £49.99.");
    expect(message.text).toContain("Claim your place: https://book.example.test/api/v1/waitlist/wl_1/accept?token=abc");
  });

  it("OFFER_EXPIRING: a reminder with the deadline", () => {
    const message = rendered(
      render("OFFER_EXPIRING", { ...place, sessionStartsAt: MARCH_18_LONDON, offerExpiresAt: MARCH_18_LONDON - 3_600_000, acceptLinkPath: "/accept" }),
    );
    expect(message.template.name).toBe("offer-expiring");
    expect(message.subject).toBe("Reminder: your place on Wheel Basics is held until Sat 14 Mar, 17:00");
    expect(message.text).toContain("is released at Saturday 14 March 2026, 17:00 GMT.");
    expect(message.text).toContain("Claim it now: https://book.example.test/accept");
  });

  it("OFFER_EXPIRED: the place has gone to the next person", () => {
    const message = rendered(render("OFFER_EXPIRED", { className: "Wheel Basics", sessionStartsAt: MARCH_18_LONDON }));
    expect(message.template.name).toBe("offer-expired");
    expect(message.subject).toBe("Your held place on Wheel Basics has been released");
    // No zone given: UTC.
    expect(message.text).toContain("(Saturday 14 March 2026, 18:00 UTC) was not claimed in time");
  });

  it("TRAINER_AVAILABLE: the course can be booked, with the next session when known", () => {
    const message = rendered(
      render("TRAINER_AVAILABLE", { ...place, cityName: "Leeds", sessionStartsAt: JUNE_18_LONDON, bookLinkPath: "/api/v1/classes/cls_1" }),
    );
    expect(message.template.name).toBe("trainer-available");
    expect(message.subject).toBe("Wheel Basics can now be booked");
    expect(message.text).toContain("when Wheel Basics in Leeds could be booked: an instructor is now assigned.");
    expect(message.text).toContain("Next session: Sunday 14 June 2026, 18:00 BST at Clay Studio");
    expect(message.text).toContain("Book now: https://book.example.test/api/v1/classes/cls_1");

    const minimal = rendered(render("TRAINER_AVAILABLE", { className: "Wheel Basics" }));
    expect(minimal.text).not.toContain("Next session");
    expect(minimal.text).not.toContain("Book now");
  });

  it("keeps every value on one line: nothing in the data adds lines or headers", () => {
    const message = rendered(
      render("OFFER_EXPIRED", { className: "Wheel\r\nBcc: victim@example.com\u2028Basics", sessionStartsAt: MARCH_18_LONDON }, "Ada\nEvil"),
    );
    expect(message.subject).toBe("Your held place on Wheel Bcc: victim@example.com Basics has been released");
    // A name with a control character is not a valid name: it is not echoed at all.
    expect(message.text.split("\n")[0]).toBe("Hello,");
    expect(message.text).toContain("on Wheel Bcc: victim@example.com Basics (");
  });

  it("builds every link on the base URL it is given, and refuses a base URL that is not an origin", () => {
    const data = { ...place, sessions: [{ startsAt: MARCH_18_LONDON }], seats: 1, totalAmountPence: 100, manageLinkPath: "/api/v1/bookings/bkg_1?token=t" };
    const message = rendered(renderNotification({ kind: "BOOKING_CONFIRMED", data, recipient: { firstName: "Ada" }, baseUrl: "https://Book.Example.test/" }));
    expect(message.text).toContain("View or cancel your booking: https://book.example.test/api/v1/bookings/bkg_1?token=t\n");
    expect(message.text).not.toMatch(/: \/api\//);
    for (const baseUrl of ["", "/relative", "javascript:alert(1)", "https://book.example.test/path", "https://user:pw@book.example.test"]) {
      const result = renderNotification({ kind: "BOOKING_CONFIRMED", data, recipient: { firstName: "Ada" }, baseUrl });
      expect(result.ok, baseUrl).toBe(false);
    }
  });

  it("greets only with a valid first name: a name carrying a link, an instruction or invisible characters is never echoed", () => {
    const data = { className: "Wheel Basics", sessionStartsAt: MARCH_18_LONDON };
    for (const firstName of ["Hi there. URGENT: payment failed, pay again at https://evil.example", "evil.example", "Ada\u202Egnp.exe", "A\u200Bda", "Ada\u0000"]) {
      const message = rendered(render("OFFER_EXPIRED", data, firstName));
      expect(message.text.split("\n")[0], firstName).toBe("Hello,");
      expect(message.text).not.toContain("evil");
    }
    expect(rendered(render("OFFER_EXPIRED", data, "  Seán ")).text.split("\n")[0]).toBe("Hi Seán,");
  });

  it("refuses data that does not fit the kind, naming the fields", () => {
    const cases: [Parameters<typeof render>[0], unknown, RegExp][] = [
      ["BOOKING_CONFIRMED", { className: "X", sessions: [], seats: 1, totalAmountPence: 100, manageLinkPath: "/b" }, /sessions/],
      ["BOOKING_CONFIRMED", { className: "X", sessions: [{ startsAt: "tomorrow" }], seats: 1, totalAmountPence: 100, manageLinkPath: "/b" }, /sessions\.0\.startsAt/],
      ["BOOKING_CONFIRMED", { className: "X", sessions: [{ startsAt: 1 }], seats: 1, totalAmountPence: 12.5, manageLinkPath: "/b" }, /totalAmountPence/],
      ["BOOKING_CONFIRMED", { className: "X", sessions: [{ startsAt: 1 }], seats: 1, totalAmountPence: 100, manageLinkPath: "https://evil.example/b" }, /manageLinkPath/],
      ["BOOKING_CONFIRMED", { className: "X", sessions: [{ startsAt: 1 }], seats: 1, totalAmountPence: 100, manageLinkPath: "//evil.example/b" }, /manageLinkPath/],
      ["BOOKING_CONFIRMED", { className: "X", sessions: [{ startsAt: 1 }], seats: 1, totalAmountPence: 100, manageLinkPath: "/\\evil.example/b" }, /manageLinkPath/],
      ["OFFER_MADE", { className: "X", sessionStartsAt: 1, seats: 1, offerExpiresAt: 2, acceptLinkPath: "/a", timeZone: "Mars/Olympus" }, /timeZone/],
      ["OFFER_MADE", { className: "X", sessionStartsAt: 1, seats: 0, offerExpiresAt: 2, acceptLinkPath: "/a" }, /seats/],
      ["OFFER_MADE", { className: "X", sessionStartsAt: 1, seats: 1, offerExpiresAt: 2, acceptLinkPath: "/a", currency: "EUR" }, /currency/],
      ["OFFER_EXPIRING", { className: "X", sessionStartsAt: 1, acceptLinkPath: "/a" }, /offerExpiresAt/],
      ["OFFER_EXPIRED", { sessionStartsAt: 1 }, /className/],
      ["TRAINER_AVAILABLE", "not an object", /data/],
    ];
    for (const [kind, data, field] of cases) {
      const result = render(kind, data);
      expect(result.ok, `${kind} ${JSON.stringify(data)}`).toBe(false);
      if (!result.ok) {
        expect(result.error).toContain(`Invalid ${kind} data`);
        expect(result.error).toMatch(field);
      }
    }
  });

  it("BOOKING_CONFIRMED: the calendar link when the producer gives one", () => {
    const data = { ...place, sessions: [{ startsAt: MARCH_18_LONDON }], seats: 1, totalAmountPence: 100, manageLinkPath: "/b" };
    const withCalendar = rendered(render("BOOKING_CONFIRMED", { ...data, calendarLinkPath: "/api/v1/bookings/bkg_1/calendar.ics?token=t" }));
    expect(withCalendar.text).toContain("\n\nAdd to your calendar: https://book.example.test/api/v1/bookings/bkg_1/calendar.ics?token=t\n");
    expect(withCalendar.html).toContain('Add to your calendar: <a href="https://book.example.test/api/v1/bookings/bkg_1/calendar.ics?token=t">');
    expect(rendered(render("BOOKING_CONFIRMED", data)).text).not.toContain("calendar");
  });

  it("SIGN_IN_LINK: the link, until when it is valid, and what to do if you did not ask; no class needed", () => {
    const message = rendered(render("SIGN_IN_LINK", { linkPath: "/api/v1/auth/callback?token=s3cret", expiresAt: "2026-06-14T17:15:00Z" }));
    expect(message.template.name).toBe("sign-in-link");
    expect(message.subject).toBe("Sign in to book.example.test");
    expect(message.text).toBe(
      [
        "Hello,",
        "",
        "Use this link to sign in to book.example.test: https://book.example.test/api/v1/auth/callback?token=s3cret",
        "",
        "It is valid until Sunday 14 June 2026, 17:15 UTC.",
        "",
        "If you did not ask for this, ignore this message: nobody can sign in without the link.",
        "",
      ].join("\n"),
    );
    expect(maskLinkTokens(message.text)).not.toContain("s3cret");
    expect(render("SIGN_IN_LINK", { expiresAt: 1 }).ok).toBe(false);
  });

  it("STAFF_INVITE: who invited whom to which studio, as what, with the link and its expiry", () => {
    const message = rendered(
      render("STAFF_INVITE", { linkPath: "/api/v1/auth/invite?token=abc", expiresAt: JUNE_18_LONDON, role: "admin", studioName: "Clay Studio", invitedBy: "Grace Hopper", timeZone: "Europe/London" }),
    );
    expect(message.template.name).toBe("staff-invite");
    expect(message.subject).toBe("You are invited to Clay Studio as admin");
    expect(message.text).toContain("Grace Hopper has invited you to join Clay Studio on book.example.test as an admin.");
    expect(message.text).toContain("Accept the invitation: https://book.example.test/api/v1/auth/invite?token=abc");
    expect(message.text).toContain("The link is valid until Sunday 14 June 2026, 18:00 BST.");
    const bare = rendered(render("STAFF_INVITE", { linkPath: "/i", expiresAt: MARCH_18_LONDON, role: "staff" }));
    expect(bare.subject).toBe("You are invited to book.example.test as staff");
    expect(bare.text).toContain("Someone has invited you to join book.example.test as staff.");
    expect(render("STAFF_INVITE", { linkPath: "/i", expiresAt: 1, role: "owner" }).ok).toBe(false);
  });

  it("SESSION_REMINDER: the session in studio-local time, seats, address and the manage link", () => {
    const message = rendered(
      render("SESSION_REMINDER", { ...place, sessionStartsAt: JUNE_18_LONDON, seats: 2, manageLinkPath: "/api/v1/bookings/bkg_1?token=t", address: "1 Kiln Lane, Leeds" }, "Ada", "bkg_1"),
    );
    expect(message.template.name).toBe("session-reminder");
    expect(message.subject).toBe("Reminder: Wheel Basics, Sun 14 Jun, 18:00");
    expect(message.text).toContain("you are booked on Wheel Basics on Sunday 14 June 2026, 18:00 BST at Clay Studio, for 2 seats.");
    expect(message.text).toContain("Address: 1 Kiln Lane, Leeds");
    expect(message.text).toContain("Booking reference: bkg_1");
    expect(message.text).toContain("View or cancel your booking, so someone else can have the place: https://book.example.test/api/v1/bookings/bkg_1?token=t");
    expect(render("SESSION_REMINDER", { ...place, sessionStartsAt: JUNE_18_LONDON, seats: 1 }).ok).toBe(false);
  });

  it("SESSION_FOLLOW_UP: thanks for coming, and a link to book again when given", () => {
    const message = rendered(render("SESSION_FOLLOW_UP", { ...place, sessionStartsAt: MARCH_18_LONDON, bookLinkPath: "/api/v1/classes/cls_1" }));
    expect(message.template.name).toBe("session-follow-up");
    expect(message.subject).toBe("Thanks for coming to Wheel Basics");
    expect(message.text).toContain("Thanks for coming to Wheel Basics on Saturday 14 March 2026, 18:00 GMT at Clay Studio.");
    expect(message.text).toContain("Book again: https://book.example.test/api/v1/classes/cls_1");
    expect(rendered(render("SESSION_FOLLOW_UP", { className: "Glaze", sessionStartsAt: MARCH_18_LONDON })).text).not.toContain("Book again");
  });

  it("STAFF_MESSAGE: staff's text keeps its paragraphs and lines but no control characters; the subject is one line", () => {
    const message = rendered(
      render("STAFF_MESSAGE", {
        subject: "Studio\r\nBcc: x@example.com closed",
        text: "The kiln is broken.\r\nWe are sorry.\n\n\n\nBring an apron\u0007 <b>please</b>\u2028Thanks",
        className: "Wheel Basics",
        sessionStartsAt: MARCH_18_LONDON,
        timeZone: "Europe/London",
        senderName: "Sam Teacher",
        studioName: "Clay Studio",
      }),
    );
    expect(message.template.name).toBe("staff-message");
    expect(message.subject).toBe("Studio Bcc: x@example.com closed");
    expect(message.text).toBe(
      [
        "Hi Ada,",
        "",
        "About: Wheel Basics, Saturday 14 March 2026, 18:00 GMT",
        "",
        "The kiln is broken.",
        "We are sorry.",
        "",
        "Bring an apron <b>please</b>",
        "Thanks",
        "",
        "Sam Teacher at Clay Studio",
        "",
      ].join("\n"),
    );
    expect(message.html).toContain("<p>The kiln is broken.<br>\nWe are sorry.</p>");
    expect(message.html).toContain("Bring an apron &lt;b&gt;please&lt;/b&gt;");
    expect(message.html).not.toContain("<b>");
    for (const data of [{ subject: "Hi", text: "\n\u0001\n " }, { subject: "", text: "x" }, { subject: "Hi", text: "x".repeat(5001) }]) {
      expect(render("STAFF_MESSAGE", data).ok, JSON.stringify(data).slice(0, 40)).toBe(false);
    }
  });

  it("every kind has an HTML body with the same content: values escaped, links as <a>", () => {
    const message = rendered(
      render("OFFER_MADE", {
        className: "<script>alert(1)</script> & \"kiln\"",
        sessionStartsAt: JUNE_18_LONDON,
        seats: 1,
        offerExpiresAt: JUNE_18_LONDON,
        acceptLinkPath: "/api/v1/waitlist/wl_1/accept?token=a&b=\"x\"",
      }),
    );
    expect(message.html).toMatch(/^<!DOCTYPE html>/);
    expect(message.html).toContain("<title>A place is free: &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;kiln&quot;, Sun 14 Jun, 17:00</title>");
    expect(message.html).not.toContain("<script>");
    expect(message.html).toContain(
      'Claim your place: <a href="https://book.example.test/api/v1/waitlist/wl_1/accept?token=a&amp;b=&quot;x&quot;">https://book.example.test/api/v1/waitlist/wl_1/accept?token=a&amp;b=&quot;x&quot;</a>',
    );
    // The same paragraphs as the text, one <p> each.
    expect(message.html.match(/<p>/g)).toHaveLength(message.text.trim().split("\n\n").length);
  });

  it("ignores fields a kind does not use", () => {
    const result = render("OFFER_EXPIRED", { className: "X", sessionStartsAt: MARCH_18_LONDON, waitlistPosition: 3, somethingNew: { a: 1 } });
    expect(result.ok).toBe(true);
  });
});
