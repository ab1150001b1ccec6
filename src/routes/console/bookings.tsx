/**
 * GET /admin/bookings (search and results), GET /admin/bookings.csv (the same search as a file) and
 * GET /admin/bookings/{id} (one booking and its communications). All read through
 * src/services/admin-bookings.ts, the admin API's own search.
 */
import { Hono, type Context } from "hono";
import { DateTime } from "luxon";
import { z } from "zod";
import { getDb } from "../../db/client";
import { BOOKING_STATUSES } from "../../db/schema";
import type { AppEnv } from "../../env";
import { csvHeaders, openCsvStream } from "../../lib/csv";
import { decodeCursor, encodeCursor } from "../../lib/pagination";
import { BookingDetailPage } from "../../pages/console/booking-detail";
import { BookingsPage, type BookingSearchForm } from "../../pages/console/bookings";
import { ConsoleNotFoundPage } from "../../pages/console/not-found";
import { localTime } from "../../pages/format";
import { type BookingSearch, type BookingSearchCursor, classChoices, classTimeZone, type FoundBooking, searchBookings } from "../../services/admin-bookings";
import { getBooking } from "../../services/booking-views";
import { communicationsForBooking } from "../../services/communications";
import { pageUser, renderPage } from "../page-response";
import { CONSOLE_ZONE } from "./console-data";

const PAGE_SIZE = 50;
/** The most rows one CSV holds; read from D1 in pages of CSV_BATCH. */
const CSV_MAX_ROWS = 10_000;
const CSV_BATCH = 500;

const day = z.iso.date().optional().catch(undefined);
const text = (max: number) => z.string().trim().min(1).max(max).optional().catch(undefined);
/** Unusable values are dropped (the form shows "Any"), never an error page. */
const SearchQuery = z.object({
  email: text(254),
  name: text(100),
  classId: text(64),
  status: z.enum(BOOKING_STATUSES).optional().catch(undefined),
  from: day,
  to: day,
  sessionFrom: day,
  sessionTo: day,
  cursor: z.string().max(512).optional().catch(undefined),
});

type Parsed = { form: BookingSearchForm; search: BookingSearch; problem: string | null; after: BookingSearchCursor | undefined };

/** The form's fields, and the service's search: dates are whole days in the console's zone, both ends included. */
function parseSearch(c: Context<AppEnv>): Parsed {
  const { cursor, ...form } = SearchQuery.parse(c.req.query());
  const dayStartOf = (date: string | undefined) => (date ? DateTime.fromISO(date, { zone: CONSOLE_ZONE }).startOf("day") : undefined);
  const [from, sessionFrom] = [dayStartOf(form.from), dayStartOf(form.sessionFrom)];
  const [to, sessionTo] = [dayStartOf(form.to)?.plus({ days: 1 }), dayStartOf(form.sessionTo)?.plus({ days: 1 })];
  const problem =
    from && to && from >= to
      ? "“Booked until” is before “Booked from”: swap the dates."
      : sessionFrom && sessionTo && sessionFrom >= sessionTo
        ? "“Sessions until” is before “Sessions from”: swap the dates."
        : null;
  let after: BookingSearchCursor | undefined;
  try {
    const [at, id] = cursor ? decodeCursor(cursor, 2) : [];
    if (typeof at === "number" && typeof id === "string") after = { confirmedAt: new Date(at), id };
  } catch {
    after = undefined;
  }
  return {
    form,
    problem,
    after,
    search: {
      email: form.email,
      name: form.name,
      classId: form.classId,
      status: form.status,
      from: from?.toJSDate(),
      to: to?.toJSDate(),
      sessionFrom: sessionFrom?.toJSDate(),
      sessionTo: sessionTo?.toJSDate(),
    },
  };
}

function queryOf(form: BookingSearchForm, cursor?: string): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) if (value) query.set(key, String(value));
  if (cursor) query.set("cursor", cursor);
  return query.toString();
}

const CSV_COLUMNS = [
  "booking_id",
  "status",
  "kind",
  "customer_email",
  "customer_first_name",
  "customer_last_name",
  "class",
  "sessions",
  "first_session_start_utc",
  "first_session_start_local",
  "seats",
  "total_pence",
  "total_pounds",
  "currency",
  "booked_at_utc",
  "booked_at_local",
  "cancelled_at_utc",
  "time_zone",
];

/** "12.50": pounds and pence as a plain decimal a spreadsheet reads as a number. */
const poundsColumn = (pence: number) => (pence / 100).toFixed(2);

function csvRow(b: FoundBooking): (string | number)[] {
  const first = b.lines[0]?.startsAt ?? null;
  return [
    b.id,
    b.status,
    b.registrationType,
    b.customer.email,
    b.customer.firstName,
    b.customer.lastName,
    b.className,
    b.lines.length,
    first ?? "",
    first ? localTime(first, b.timeZone) : "",
    b.guestCount,
    b.totalAmountPence,
    poundsColumn(b.totalAmountPence),
    b.currency,
    b.confirmedAt,
    localTime(b.confirmedAt, b.timeZone),
    b.cancelledAt ?? "",
    b.timeZone,
  ];
}

/** The search's bookings as CSV rows, newest first, read CSV_BATCH at a time, at most CSV_MAX_ROWS. */
async function* csvRows(db: ReturnType<typeof getDb>, search: BookingSearch): AsyncGenerator<(string | number)[]> {
  let after: BookingSearchCursor | undefined;
  for (let sent = 0; sent < CSV_MAX_ROWS; ) {
    const batch = await searchBookings(db, search, { limit: Math.min(CSV_BATCH, CSV_MAX_ROWS - sent), after });
    for (const booking of batch) yield csvRow(booking);
    sent += batch.length;
    const last = batch[batch.length - 1];
    if (batch.length < CSV_BATCH || !last) return;
    after = { confirmedAt: new Date(last.confirmedAt), id: last.id };
  }
}

export const consoleBookingPages = new Hono<AppEnv>()
  .get("/bookings", async (c) => {
    const { form, search, problem, after } = parseSearch(c);
    const db = getDb(c.env.DB);
    const [classes, found] = await Promise.all([classChoices(db), problem ? [] : searchBookings(db, search, { limit: PAGE_SIZE + 1, after })]);
    const shown = found.slice(0, PAGE_SIZE);
    const last = shown[shown.length - 1];
    const nextPage = found.length > PAGE_SIZE && last ? queryOf(form, encodeCursor([Date.parse(last.confirmedAt), last.id])) : null;
    return renderPage(
      c,
      <BookingsPage
        user={pageUser(c)}
        zone={CONSOLE_ZONE}
        form={form}
        problem={problem}
        classes={classes}
        statuses={BOOKING_STATUSES}
        bookings={shown.map((b) => ({
          id: b.id,
          status: b.status,
          customer: b.customer,
          className: b.className,
          timeZone: b.timeZone,
          guestCount: b.guestCount,
          totalAmountPence: b.totalAmountPence,
          confirmedAt: b.confirmedAt,
          firstSession: b.lines[0]?.startsAt ?? null,
          sessions: b.lines.length,
        }))}
        query={queryOf(form)}
        nextPage={nextPage}
      />,
      { status: problem ? 400 : 200 },
    );
  })
  .get("/bookings.csv", async (c) => {
    const { search, problem } = parseSearch(c);
    if (problem) return c.text(problem, 400);
    const stamp = DateTime.now().setZone(CONSOLE_ZONE).toFormat("yyyy-LL-dd");
    // Streamed a page at a time (src/lib/csv.ts: RFC 4180, formula-looking text neutralised; a first page that fails is a 503).
    const file = `bookings-${stamp}.csv`;
    return c.body(await openCsvStream(CSV_COLUMNS, csvRows(getDb(c.env.DB), search), file), 200, csvHeaders(file));
  })
  .get("/bookings/:id", async (c) => {
    const id = c.req.param("id");
    const db = getDb(c.env.DB);
    const booking = await getBooking(c.env, db, id);
    if (!booking) {
      return renderPage(c, <ConsoleNotFoundPage user={pageUser(c)} what="Booking" id={id} back={{ href: "/admin/bookings", label: "Back to bookings" }} />, { status: 404 });
    }
    const [zone, messages] = await Promise.all([classTimeZone(db, booking.classId), communicationsForBooking(db, id, { limit: 200 })]);
    return renderPage(
      c,
      <BookingDetailPage
        user={pageUser(c)}
        zone={zone}
        booking={booking}
        messages={messages.map((m) => ({
          id: m.id,
          type: m.type,
          channel: m.channel,
          status: m.status,
          recipientEmail: m.recipientEmail,
          subject: m.subject,
          content: m.content,
          attempts: m.attempts,
          lastError: m.lastError,
          sentBy: m.sentBy,
          requestedAt: m.requestedAt.toISOString(),
          sentAt: m.sentAt?.toISOString() ?? null,
          failedAt: m.failedAt?.toISOString() ?? null,
        }))}
      />,
    );
  });

