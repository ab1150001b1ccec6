/**
 * Data for the report tests: a small catalog, customers, bookings (some cancelled, some with a
 * cancelled line, some before or after the range), cancellation and waitlist events, attendance and
 * alerts, generated with a seeded PRNG and written straight into D1. The plain arrays are returned
 * so each test can recount what a report should say.
 */
import { env } from "cloudflare:workers";
import { getDb } from "../src/db/client";
import * as t from "../src/db/schema";
import { attendeeId } from "../src/domain/attendees";
import type { DomainEvent } from "../src/domain/events";
import { event, insertEvents, seededRandom } from "./metrics-helpers";

export const DAY = 86_400_000;

export interface GenClass {
  id: string;
  name: string;
  studioId: string;
  studioName: string;
  cityId: string;
  cityName: string;
}
export interface GenSession {
  id: string;
  classId: string;
  startsAt: number;
  capacity: number;
  status: "scheduled" | "cancelled";
}
export interface GenLine {
  sessionId: string;
  seats: number;
  status: "confirmed" | "cancelled";
  pricePence: number;
}
export interface GenBooking {
  id: string;
  customerId: string;
  classId: string;
  status: "confirmed" | "cancelled";
  confirmedAt: number;
  source: (typeof t.BOOKING_SOURCES)[number] | null;
  totalAmountPence: number;
  lines: GenLine[];
}
export interface GenAttendance {
  sessionId: string;
  attendeeId: string;
  bookingId: string;
  status: "checked_in" | "no_show";
}
export interface GenAlert {
  type: string;
  createdAt: number;
  resolvedAt: number | null;
}
export interface ReportData {
  classes: GenClass[];
  sessions: GenSession[];
  customers: { id: string; email: string; firstName: string; lastName: string }[];
  bookings: GenBooking[];
  events: DomainEvent[];
  attendance: GenAttendance[];
  alerts: GenAlert[];
}

/** Generates the data around [fromMs, toMs) (with some of it up to 90 days either side) and writes it to D1. */
export async function generateReportData(seed: number, fromMs: number, toMs: number): Promise<ReportData> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const between = (a: number, b: number) => Math.floor(a + random() * (b - a));
  const tag = `${seed}${crypto.randomUUID().slice(0, 6)}`;
  const db = getDb(env.DB);

  const cities = [0, 1].map((i) => ({ id: `cty_rep${tag}${i}`, name: `Report city ${tag} ${i}`, countryCode: "GB" }));
  const studios = [0, 1, 2].map((i) => ({ id: `stu_rep${tag}${i}`, name: `Report studio ${tag} ${i}`, cityId: cities[i % 2]!.id, timeZone: "Europe/London" }));
  const role = { id: `rol_rep${tag}`, name: `Report role ${tag}` };
  const classes: GenClass[] = [0, 1, 2, 3].map((i) => {
    const studio = studios[i % 3]!;
    const city = cities.find((c) => c.id === studio.cityId)!;
    return { id: `cls_rep${tag}${i}`, name: `=Report class ${i}`, studioId: studio.id, studioName: studio.name, cityId: city.id, cityName: city.name };
  });
  const sessions: GenSession[] = Array.from({ length: 24 }, (_, i) => ({
    id: `ses_rep${tag}${i}`,
    classId: classes[i % classes.length]!.id,
    startsAt: between(fromMs - 30 * DAY, toMs + 30 * DAY),
    capacity: pick([6, 8, 10]),
    status: i % 11 === 5 ? "cancelled" : "scheduled",
  }));
  const customers = Array.from({ length: 14 }, (_, i) => ({ id: `cus_rep${tag}${i}`, email: `rep-${tag}-${i}@example.test`, firstName: i === 0 ? "=HYPERLINK(1)" : "Ada", lastName: `Number ${i}` }));

  const bookings: GenBooking[] = [];
  for (let i = 0; i < 90; i++) {
    const first = pick(sessions);
    const sameClass = sessions.filter((s) => s.classId === first.classId && s.id !== first.id);
    const picked = random() < 0.2 && sameClass.length > 0 ? [first, pick(sameClass)] : [first];
    const status = random() < 0.2 ? "cancelled" : "confirmed";
    const seats = between(1, 4);
    const lines: GenLine[] = picked.map((s, n) => ({
      sessionId: s.id,
      seats,
      // A confirmed booking may have a line cancelled on its own.
      status: status === "cancelled" || (n === 1 && random() < 0.5) ? "cancelled" : "confirmed",
      pricePence: 2000 * seats + n * 500,
    }));
    const firstStart = Math.min(...picked.map((s) => s.startsAt));
    bookings.push({
      id: `bkg_rep${tag}${i}`,
      customerId: pick(customers).id,
      classId: first.classId,
      status,
      confirmedAt: firstStart - between(DAY, 40 * DAY),
      source: pick([...t.BOOKING_SOURCES, null]),
      totalAmountPence: lines.reduce((sum, line) => sum + line.pricePence, 0),
      lines,
    });
  }

  const events: DomainEvent[] = [];
  const leads = [-2 * 3600_000, 3 * 3600_000, 23 * 3600_000, DAY, 2 * DAY, 7 * DAY, 7 * DAY + 1, 30 * DAY];
  for (const booking of bookings.filter((b) => b.status === "cancelled")) {
    const start = Math.min(...booking.lines.map((line) => sessions.find((s) => s.id === line.sessionId)!.startsAt));
    events.push(event("BOOKING_CANCELLED", start - pick(leads), { bookingId: booking.id, classId: random() < 0.5 ? booking.classId : null }));
  }
  for (let i = 0; i < 30; i++) {
    const session = pick(sessions);
    const entryId = `wle_rep${tag}${i}`;
    const classId = random() < 0.5 ? session.classId : null;
    const on = (type: Parameters<typeof event>[0], at: number, offerNumber: number) =>
      events.push(event(type, at, { sessionId: session.id, classId, data: { entryId, offerNumber, status: "waiting" } }));
    const joinedAt = between(fromMs - 20 * DAY, toMs);
    on("WAITLIST_JOINED", joinedAt, 0);
    if (random() < 0.2) continue;
    let offeredAt = joinedAt + between(60_000, 5 * DAY);
    for (let offer = 1; offer <= 2; offer++) {
      on("OFFER_SENT", offeredAt, offer);
      const outcome = pick(["OFFER_ACCEPTED", "OFFER_DECLINED", "OFFER_EXPIRED", "OFFER_EXPIRED"] as const);
      const answeredAt = offeredAt + between(60_000, DAY);
      on(outcome, answeredAt, offer);
      if (outcome !== "OFFER_EXPIRED") break;
      offeredAt = answeredAt + between(60_000, DAY);
    }
  }

  const attendance: GenAttendance[] = [];
  for (const booking of bookings.filter((b) => b.status === "confirmed")) {
    for (const line of booking.lines.filter((l) => l.status === "confirmed")) {
      for (let position = 1; position <= line.seats; position++) {
        const r = random();
        if (r < 0.15) continue;
        attendance.push({ sessionId: line.sessionId, attendeeId: attendeeId(booking.id, position), bookingId: booking.id, status: r < 0.75 ? "checked_in" : "no_show" });
      }
    }
  }
  const alerts: GenAlert[] = Array.from({ length: 12 }, (_, i) => {
    const createdAt = between(fromMs - 10 * DAY, toMs + 10 * DAY);
    return { type: `REPORT_TEST_${tag}_${i % 3}`, createdAt, resolvedAt: random() < 0.75 ? createdAt + between(60_000, 3 * DAY) : null };
  });

  await db.batch([
    db.insert(t.cities).values(cities),
    db.insert(t.studios).values(studios),
    db.insert(t.teachingRoles).values(role),
    ...classes.map((c) =>
      db.insert(t.classes).values({ id: c.id, studioId: c.studioId, name: c.name, pricePence: 2000, durationMinutes: 60, defaultCapacity: 8, requiredRoleId: role.id, bookingKinds: ["SINGLE_SESSION"] }),
    ),
    ...sessions.map((s) =>
      db.insert(t.classSessions).values({ id: s.id, classId: s.classId, startsAt: new Date(s.startsAt), endsAt: new Date(s.startsAt + 3600_000), capacity: s.capacity, status: s.status }),
    ),
    ...customers.map((c) => db.insert(t.customers).values(c)),
  ]);
  const writes = [
    ...bookings.flatMap((b) => [
      db.insert(t.bookings).values({
        id: b.id,
        customerId: b.customerId,
        registrationType: "SINGLE_SESSION",
        status: b.status,
        guestCount: b.lines[0]!.seats,
        classId: b.classId,
        subtotalPence: b.totalAmountPence,
        discountPence: 0,
        totalAmountPence: b.totalAmountPence,
        source: b.source,
        manageTokenHash: "report-test",
        version: b.confirmedAt,
        confirmedAt: new Date(b.confirmedAt),
        cancelledAt: b.status === "cancelled" ? new Date(b.confirmedAt + DAY) : null,
      }),
      ...b.lines.map((l) => db.insert(t.bookingSessions).values({ bookingId: b.id, ...l, version: 1 })),
    ]),
    ...attendance.map((a) => db.insert(t.sessionAttendance).values({ ...a, recordedBy: "staff:test", recordedAt: new Date(fromMs) })),
    ...alerts.map((a, i) =>
      db.insert(t.alerts).values({
        id: `alr_rep${tag}${i}`,
        type: a.type,
        severity: "warning",
        status: a.resolvedAt === null ? "open" : "resolved",
        subjectKey: `subject:${tag}:${i}`,
        title: "Report test alert",
        createdAt: new Date(a.createdAt),
        resolvedAt: a.resolvedAt === null ? null : new Date(a.resolvedAt),
      }),
    ),
  ];
  for (let i = 0; i < writes.length; i += 50) {
    const chunk = writes.slice(i, i + 50);
    await db.batch(chunk as [(typeof chunk)[number], ...(typeof chunk)[number][]]);
  }
  await insertEvents(events);
  return { classes, sessions, customers, bookings, events, attendance, alerts };
}

/** Nearest-rank percentile of numbers (sorted here). */
export function nearestRank(values: number[], p: number): number | null {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? null : sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

export const round4 = (n: number, d: number) => (d > 0 ? Math.round((n / d) * 10_000) / 10_000 : null);
export const minutes = (ms: number | null) => (ms === null ? null : Math.round(ms / 600) / 100);
