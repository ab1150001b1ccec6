/**
 * Staff messages: a booking's confirmation or reminder sent again, free text to a booking or to a
 * whole session, each through the real queue to the dev mailbox and recorded with who sent it; a
 * customer's communications, newest first and only theirs. Staff and admins only.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { ResendProvider } from "../src/services/providers/resend";
import { postBooking, projectionCaughtUp, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession, makeCancelledBooking, makeStaff } from "./fixtures";
import { call, eventually, tokenFor, unique } from "./helpers";

const db = getDb(env.DB);

type Mail = { id: string; subject: string; text: string; html: string | null };

const mailbox = async (email: string): Promise<Mail[]> => (await call("GET", `/api/v1/dev/mailbox?to=${encodeURIComponent(email)}`)).json.data;

/** Waits until `email` has `count` messages whose subject matches; returns them, newest first. */
const messagesTo = (email: string, subject: RegExp, count = 1) =>
  eventually(async () => {
    const matching = (await mailbox(email)).filter((m) => subject.test(m.subject));
    return matching.length >= count ? matching : undefined;
  }, 15_000);

const communication = (id: string) =>
  env.DB.prepare(`SELECT status, type, sent_by, recipient_email, booking_id, session_id FROM booking_communications WHERE id = ?`).bind(id).first<Record<string, unknown>>();

/** A confirmed booking made through the API, once D1 has it (and its confirmation has arrived). */
async function booked(options: { seats?: number; session?: Awaited<ReturnType<typeof makeBookableSession>> } = {}) {
  const bookable = options.session ?? (await makeBookableSession({ capacity: 10, pricePence: 2500 }));
  const email = uniqueEmail("staffmsg");
  const seats = options.seats ?? 1;
  const response = await postBooking(singleBookingBody(bookable.session.id, 2500, { guestCount: seats, contact: { email, firstName: "Ada", lastName: "Lovelace" } }));
  expect(response.status).toBe(201);
  await projectionCaughtUp(bookable.session.id);
  await messagesTo(email, /^Booking confirmed/);
  const customer = await db.query.customers.findFirst({ where: (c, { eq }) => eq(c.email, email) });
  return { ...bookable, email, bookingId: response.json.booking.id as string, manageToken: response.json.manageToken as string, customerId: customer!.id };
}

describe("POST /api/v1/admin/bookings/{id}/send-email", () => {
  it("sends the confirmation again, recorded with who sent it; the same Idempotency-Key sends nothing twice", async () => {
    const booking = await booked({ seats: 2 });
    const staffEmail = `front-desk-${unique()}@example.test`;
    const staff = await tokenFor("staff", staffEmail);
    const key = `resend-${unique()}`;
    const sent = await call("POST", `/api/v1/admin/bookings/${booking.bookingId}/send-email`, { token: staff, body: { template: "BOOKING_CONFIRMED" }, headers: { "Idempotency-Key": key } });
    expect(sent.status).toBe(202);
    expect(sent.json).toEqual({ queued: 1, batchId: expect.any(String) });

    const [again] = await messagesTo(booking.email, /^Booking confirmed/, 2);
    expect(again!.text).toContain("Seats: 2");
    expect(again!.text).toContain(`?token=${booking.manageToken}`);
    const id = `staff:${sent.json.batchId}:${booking.bookingId}`;
    await eventually(async () => (await communication(id))?.status === "sent");
    expect(await communication(id)).toMatchObject({ type: "BOOKING_CONFIRMED", sent_by: staffEmail, booking_id: booking.bookingId });
    // The original confirmation was the system's.
    expect(await communication(`booking-confirmed:${booking.bookingId}`)).toMatchObject({ sent_by: null });

    const replayed = await call("POST", `/api/v1/admin/bookings/${booking.bookingId}/send-email`, { token: staff, body: { template: "BOOKING_CONFIRMED" }, headers: { "Idempotency-Key": key } });
    expect(replayed.status).toBe(202);
    expect(replayed.json.batchId).toBe(sent.json.batchId);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await mailbox(booking.email)).filter((m) => /^Booking confirmed/.test(m.subject))).toHaveLength(2);
  });

  it("sends the reminder of the booking's next session, and free text with the class it is about", async () => {
    const booking = await booked();
    const admin = await tokenFor("admin", `owner-${unique()}@example.test`);
    const reminder = await call("POST", `/api/v1/admin/bookings/${booking.bookingId}/send-email`, { token: admin, body: { template: "SESSION_REMINDER" } });
    expect(reminder.status).toBe(202);
    const [message] = await messagesTo(booking.email, /^Reminder: /);
    expect(message!.subject).toContain(booking.klass.name);
    expect(message!.text).toContain(`/api/v1/bookings/${booking.bookingId}?token=${booking.manageToken}`);

    // Signed with the sender's name when they are on the staff list.
    const teacher = await makeStaff([], { email: `teacher-${unique()}@example.test`, firstName: "Sam", lastName: "Potter" });
    const staff = await tokenFor("staff", teacher.email);
    const text = "Please bring an apron.\n\nParking is <free> on Sundays & holidays.";
    const free = await call("POST", `/api/v1/admin/bookings/${booking.bookingId}/send-email`, { token: staff, body: { subject: "Before your class", text } });
    expect(free.status).toBe(202);
    const [note] = await messagesTo(booking.email, /^Before your class$/);
    expect(note!.text).toContain(`About: ${booking.klass.name}, `);
    expect(note!.text).toContain("Please bring an apron.\n\nParking is <free> on Sundays & holidays.");
    expect(note!.text).toContain("Sam Potter at ");
    expect(note!.html).toContain("Parking is &lt;free&gt; on Sundays &amp; holidays.");
    const id = `staff:${free.json.batchId}:${booking.bookingId}`;
    await eventually(async () => (await communication(id))?.status === "sent");
    expect(await communication(id)).toMatchObject({ type: "STAFF_MESSAGE", sent_by: teacher.email });
  });

  it("refuses what it cannot send: unknown booking 404, cancelled booking 409 NOTHING_TO_SEND, bad bodies 400", async () => {
    const staff = await tokenFor("staff");
    const { session } = await makeBookableSession();
    const cancelled = await makeCancelledBooking(session.id);
    for (const template of ["BOOKING_CONFIRMED", "SESSION_REMINDER"]) {
      const refused = await call("POST", `/api/v1/admin/bookings/${cancelled}/send-email`, { token: staff, body: { template } });
      expect(refused.status, template).toBe(409);
      expect(refused.json.error.code).toBe("NOTHING_TO_SEND");
    }
    const unknown = await call("POST", `/api/v1/admin/bookings/bkg_nobody_${unique()}/send-email`, { token: staff, body: { template: "BOOKING_CONFIRMED" } });
    expect(unknown.status).toBe(404);
    for (const body of [
      { template: "BOOKING_CANCELLED" },
      { template: "BOOKING_CONFIRMED", subject: "x", text: "y" },
      { subject: "Hi", text: "" },
      { subject: "Hi", text: "\n\u0001\n" },
      { subject: "", text: "Hello" },
      { subject: "Hi", text: "x".repeat(5001) },
      {},
    ]) {
      const refused = await call("POST", `/api/v1/admin/bookings/${cancelled}/send-email`, { token: staff, body });
      expect(refused.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(refused.json.error.code).toBe("VALIDATION_FAILED");
    }
  });
});

describe("who may send how much", () => {
  it("limits one sender to 10 messages a minute (429), and not the next sender", async () => {
    const booking = await booked();
    const staff = await tokenFor("staff", `busy-${unique()}@example.test`);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await call("POST", `/api/v1/admin/bookings/${booking.bookingId}/send-email`, { token: staff, body: { subject: `Note ${i}`, text: "Hello" } })).status);
    expect(statuses.slice(0, 10).every((status) => status === 202)).toBe(true);
    expect(statuses[10]).toBe(429);
    const other = await tokenFor("staff", `calm-${unique()}@example.test`);
    expect((await call("POST", `/api/v1/admin/bookings/${booking.bookingId}/send-email`, { token: other, body: { subject: "Note", text: "Hello" } })).status).toBe(202);
  });
});

describe("POST /api/v1/admin/sessions/{id}/message", () => {
  it("sends one message per confirmed booking of the session, none to cancelled ones, recorded with the sender", async () => {
    const first = await booked({ seats: 2 });
    const second = await booked({ session: first });
    const cancelledId = await makeCancelledBooking(first.session.id);
    const cancelledEmail = (await env.DB.prepare(`SELECT c.email FROM bookings b JOIN customers c ON c.id = b.customer_id WHERE b.id = ?`).bind(cancelledId).first<string>("email"))!;
    const elsewhere = await booked();

    const staffEmail = `desk-${unique()}@example.test`;
    const sent = await call("POST", `/api/v1/admin/sessions/${first.session.id}/message`, {
      token: await tokenFor("staff", staffEmail),
      body: { subject: "Kiln update", text: "The kiln is fixed.\nSee you there." },
    });
    expect(sent.status).toBe(202);
    expect(sent.json).toMatchObject({ queued: 2 });

    for (const booking of [first, second]) {
      const [message] = await messagesTo(booking.email, /^Kiln update$/);
      expect(message!.text).toContain("The kiln is fixed.\nSee you there.");
      expect(message!.text).toContain(`About: ${first.klass.name}, `);
      const id = `staff:${sent.json.batchId}:${booking.bookingId}`;
      await eventually(async () => (await communication(id))?.status === "sent");
      expect(await communication(id)).toMatchObject({ type: "STAFF_MESSAGE", sent_by: staffEmail, session_id: first.session.id, recipient_email: booking.email });
    }
    expect(await mailbox(cancelledEmail)).toEqual([]);
    expect((await mailbox(elsewhere.email)).filter((m) => m.subject === "Kiln update")).toEqual([]);

    const unknown = await call("POST", `/api/v1/admin/sessions/ses_nobody_${unique()}/message`, { token: await tokenFor("admin"), body: { subject: "x", text: "y" } });
    expect(unknown.status).toBe(404);
  });
});

describe("GET /api/v1/admin/customers/{id}/communications", () => {
  it("lists the customer's messages newest first, in pages, and nobody else's", async () => {
    const booking = await booked();
    const other = await booked();
    const staff = await tokenFor("staff", `lister-${unique()}@example.test`);
    const sent = await call("POST", `/api/v1/admin/bookings/${booking.bookingId}/send-email`, { token: staff, body: { subject: "A note", text: "Hello" } });
    expect(sent.status).toBe(202);
    await messagesTo(booking.email, /^A note$/);

    const listed = await eventually(async () => {
      const response = await call("GET", `/api/v1/admin/customers/${booking.customerId}/communications`, { token: staff });
      return response.json.data.length === 2 && response.json.data.every((row: { status: string }) => row.status === "sent") ? response : undefined;
    });
    expect(listed.status).toBe(200);
    expect(listed.json.data.map((row: { type: string }) => row.type)).toEqual(["STAFF_MESSAGE", "BOOKING_CONFIRMED"]);
    expect(listed.json.data[0]).toMatchObject({ sentBy: expect.stringMatching(/^lister-/), recipientEmail: booking.email, subject: "A note" });
    // Stored content never holds the manage token.
    expect(listed.json.data[1]).toMatchObject({ sentBy: null, content: expect.stringContaining("?token=[redacted]") });
    expect(listed.json.data[1].content).not.toContain(booking.manageToken);
    expect(listed.json.data.some((row: { recipientEmail: string }) => row.recipientEmail === other.email)).toBe(false);

    const firstPage = await call("GET", `/api/v1/admin/customers/${booking.customerId}/communications?limit=1`, { token: staff });
    expect(firstPage.json.data).toHaveLength(1);
    expect(firstPage.json.data[0].type).toBe("STAFF_MESSAGE");
    const secondPage = await call("GET", `/api/v1/admin/customers/${booking.customerId}/communications?limit=1&cursor=${firstPage.json.nextCursor}`, { token: staff });
    expect(secondPage.json.data.map((row: { type: string }) => row.type)).toEqual(["BOOKING_CONFIRMED"]);
    expect(secondPage.json.nextCursor).toBeNull();

    const admin = await tokenFor("admin");
    expect((await call("GET", `/api/v1/admin/customers/${other.customerId}/communications`, { token: admin })).json.data.map((row: { recipientEmail: string }) => row.recipientEmail)).toEqual([
      other.email,
    ]);
    expect((await call("GET", `/api/v1/admin/customers/cus_nobody_${unique()}/communications`, { token: admin })).status).toBe(404);
    expect((await call("GET", `/api/v1/admin/customers/${booking.customerId}/communications?cursor=nonsense`, { token: admin })).status).toBe(400);
  });
});

describe("who may send and read staff messages", () => {
  it("refuses customers (403) and anonymous callers (401), even a customer asking about their own booking", async () => {
    const booking = await booked();
    const customer = await tokenFor("customer", booking.email);
    const requests: [string, string, unknown][] = [
      ["POST", `/api/v1/admin/bookings/${booking.bookingId}/send-email`, { template: "BOOKING_CONFIRMED" }],
      ["POST", `/api/v1/admin/bookings/${booking.bookingId}/send-email`, { subject: "Hi", text: "spam" }],
      ["POST", `/api/v1/admin/sessions/${booking.session.id}/message`, { subject: "Hi", text: "spam" }],
      ["GET", `/api/v1/admin/customers/${booking.customerId}/communications`, undefined],
    ];
    for (const [method, path, body] of requests) {
      const asCustomer = await call(method, path, { token: customer, body });
      expect(asCustomer.status, `${method} ${path}`).toBe(403);
      expect(asCustomer.json.error.code).toBe("FORBIDDEN");
      expect((await call(method, path, { body })).status, `${method} ${path}`).toBe(401);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await mailbox(booking.email)).map((m) => m.subject)).toEqual([expect.stringMatching(/^Booking confirmed/)]);
  });
});

describe("the OpenAPI document", () => {
  it("lists the staff message routes with their bearer auth", async () => {
    const doc = (await call("GET", "/api/v1/openapi.json")).json;
    for (const [path, method] of [
      ["/api/v1/admin/bookings/{id}/send-email", "post"],
      ["/api/v1/admin/sessions/{id}/message", "post"],
      ["/api/v1/admin/customers/{id}/communications", "get"],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
      expect(doc.paths[path][method].security).toEqual([{ bearerAuth: [] }]);
    }
  });
});

describe("the HTML body reaches the providers", () => {
  it("Resend is sent the html beside the text", async () => {
    let sent: Record<string, unknown> = {};
    const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
      sent = await new Request(input, init).json();
      return new Response(JSON.stringify({ id: "re_1" }), { headers: { "Content-Type": "application/json" } });
    }) as typeof fetch;
    const provider = new ResendProvider({ apiKey: "re_test_key", from: "Studio <bookings@studio.example>" }, fetcher);
    await provider.send({ id: "staff:b:1", kind: "STAFF_MESSAGE", channel: "email", to: { email: "ada@example.test", name: null }, subject: "Hi", text: "Hello\n", html: "<p>Hello</p>" });
    expect(sent).toMatchObject({ text: "Hello\n", html: "<p>Hello</p>" });
  });
});
