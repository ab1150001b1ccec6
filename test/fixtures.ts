/**
 * Direct D1 fixtures for tests that need catalog rows without going through the admin routes.
 * Every call makes fresh rows with unique ids and names, so tests never share data.
 */
import { env } from "cloudflare:workers";
import { getDb } from "../src/db/client";
import * as t from "../src/db/schema";

const db = () => getDb(env.DB);
const suffix = () => crypto.randomUUID().replaceAll("-", "").slice(0, 12);

export async function makeCity(overrides: Partial<typeof t.cities.$inferInsert> = {}) {
  const [row] = await db()
    .insert(t.cities)
    .values({ id: `cty_${suffix()}`, name: `City ${suffix()}`, countryCode: "GB", ...overrides })
    .returning();
  return row!;
}

export async function makeStudio(overrides: Partial<typeof t.studios.$inferInsert> = {}) {
  const cityId = overrides.cityId ?? (await makeCity()).id;
  const [row] = await db()
    .insert(t.studios)
    .values({ id: `stu_${suffix()}`, name: `Studio ${suffix()}`, timeZone: "Europe/London", currency: "GBP", ...overrides, cityId })
    .returning();
  return row!;
}

export async function makeRole(overrides: Partial<typeof t.teachingRoles.$inferInsert> = {}) {
  const [row] = await db()
    .insert(t.teachingRoles)
    .values({ id: `rol_${suffix()}`, name: `Role ${suffix()}`, ...overrides })
    .returning();
  return row!;
}

/** A staff member holding the given teaching roles. */
export async function makeStaff(roleIds: string[] = [], overrides: Partial<typeof t.staff.$inferInsert> = {}) {
  const id = overrides.id ?? `stf_${suffix()}`;
  const [row] = await db()
    .insert(t.staff)
    .values({ id, email: `${id}@example.test`, firstName: "Sam", lastName: `Teacher ${suffix()}`, ...overrides })
    .returning();
  for (const roleId of roleIds) await db().insert(t.staffTeachingRoles).values({ staffId: id, roleId });
  return row!;
}

/** A class with its own studio and teaching role unless given. */
export async function makeClass(overrides: Partial<typeof t.classes.$inferInsert> = {}) {
  const studioId = overrides.studioId ?? (await makeStudio()).id;
  const requiredRoleId = overrides.requiredRoleId ?? (await makeRole()).id;
  const [row] = await db()
    .insert(t.classes)
    .values({
      id: `cls_${suffix()}`,
      name: `Class ${suffix()}`,
      description: "A test class",
      pricePence: 2500,
      fullSchedulePricePence: 12000,
      durationMinutes: 60,
      defaultCapacity: 12,
      bookingKinds: ["SINGLE_SESSION", "DROP_IN", "FULL_SCHEDULE"],
      ...overrides,
      studioId,
      requiredRoleId,
    })
    .returning();
  return row!;
}

export async function makeResource(studioId: string, overrides: Partial<typeof t.resources.$inferInsert> = {}) {
  const [row] = await db()
    .insert(t.resources)
    .values({ id: `res_${suffix()}`, name: `Wheel ${suffix()}`, quantity: 8, ...overrides, studioId })
    .returning();
  return row!;
}

export async function makeSession(classId: string, overrides: Partial<typeof t.classSessions.$inferInsert> = {}) {
  const startsAt = overrides.startsAt ?? new Date(Date.now() + 7 * 24 * 3600_000);
  const [row] = await db()
    .insert(t.classSessions)
    .values({
      id: `ses_${suffix()}`,
      capacity: 12,
      endsAt: new Date(startsAt.getTime() + 3600_000),
      ...overrides,
      startsAt,
      classId,
    })
    .returning();
  return row!;
}

/**
 * A booking row as the booking engine's projection would leave it in D1, written directly: for
 * catalog tests that only need "this session has bookings". Booking-engine tests book for real.
 */
async function projectedBooking(sessionId: string, seats: number, status: "confirmed" | "cancelled") {
  const customerId = `cus_${suffix()}`;
  await db().insert(t.customers).values({ id: customerId, email: `${customerId}@example.test`, firstName: "Ada", lastName: "Guest" });
  const session = await db().query.classSessions.findFirst({ where: (s, { eq }) => eq(s.id, sessionId) });
  const bookingId = `bkg_${suffix()}`;
  const now = new Date();
  await db()
    .insert(t.bookings)
    .values({
      id: bookingId,
      customerId,
      classId: session!.classId,
      registrationType: "SINGLE_SESSION",
      status,
      guestCount: seats,
      subtotalPence: 2500 * seats,
      discountPence: 0,
      totalAmountPence: 2500 * seats,
      manageTokenHash: "fixture",
      version: now.getTime(),
      confirmedAt: now,
      cancelledAt: status === "cancelled" ? now : null,
    });
  await db().insert(t.bookingSessions).values({ bookingId, sessionId, seats, status, pricePence: 2500 * seats, version: now.getTime() });
  return bookingId;
}

/** A confirmed booking of `seats` on a session, as projected into D1. */
export function makeBooking(sessionId: string, seats = 1) {
  return projectedBooking(sessionId, seats, "confirmed");
}

/** Adds a staff member as an assistant on a session. */
export async function addAssistant(sessionId: string, staffId: string) {
  await db().insert(t.sessionAssistants).values({ sessionId, staffId });
}

/** A booking of `seats` on a session that was cancelled (its seats no longer count). */
export function makeCancelledBooking(sessionId: string, seats = 1) {
  return projectedBooking(sessionId, seats, "cancelled");
}

/** Gives a class a resource requirement. */
export async function requireResource(classId: string, resourceId: string, quantityPerStudent = 1) {
  await db().insert(t.classResourceRequirements).values({ classId, resourceId, quantityPerStudent });
}

/** A promo code (10 % off, active, no limits unless given) with a unique upper-case code. */
export async function makePromo(overrides: Partial<typeof t.promoCodes.$inferInsert> = {}) {
  const [row] = await db()
    .insert(t.promoCodes)
    .values({ id: `prm_${suffix()}`, code: `PROMO${suffix().toUpperCase()}`, kind: "percent", value: 10, ...overrides })
    .returning();
  return row!;
}

/** An alert row written directly (open, warning, unique subject unless given). */
export async function makeAlert(overrides: Partial<typeof t.alerts.$inferInsert> = {}) {
  const [row] = await db()
    .insert(t.alerts)
    .values({ id: `alr_${suffix()}`, type: "TEST", severity: "warning", subjectKey: `subject:${suffix()}`, title: "Test alert", ...overrides })
    .returning();
  return row!;
}

/**
 * A future session that can be booked: its class, a qualified instructor on it, and the given
 * capacity. Options add a resource requirement or a pattern.
 */
export async function makeBookableSession(
  options: { capacity?: number; pricePence?: number; startsInHours?: number; resource?: { quantity: number; perStudent: number }; classId?: string; patternId?: string } = {},
) {
  const role = await makeRole();
  const instructor = await makeStaff([role.id]);
  const klass = options.classId
    ? (await db().query.classes.findFirst({ where: (c, { eq }) => eq(c.id, options.classId!) }))!
    : await makeClass({ requiredRoleId: role.id, pricePence: options.pricePence ?? 2500 });
  if (options.classId) {
    await db().insert(t.staffTeachingRoles).values({ staffId: instructor.id, roleId: klass.requiredRoleId });
  }
  let resource;
  if (options.resource) {
    resource = await makeResource(klass.studioId, { quantity: options.resource.quantity });
    await db().insert(t.classResourceRequirements).values({ classId: klass.id, resourceId: resource.id, quantityPerStudent: options.resource.perStudent });
  }
  const startsAt = new Date(Date.now() + (options.startsInHours ?? 24 * 7) * 3600_000 + Math.floor(Math.random() * 3600_000));
  const session = await makeSession(klass.id, {
    capacity: options.capacity ?? 12,
    instructorId: instructor.id,
    startsAt,
    patternId: options.patternId ?? null,
  });
  return { session, klass, instructor, resource };
}

/** A customer row (for projections written directly in tests). */
export async function makeCustomer(email = `cus-${suffix()}@example.test`) {
  const [row] = await db()
    .insert(t.customers)
    .values({ id: `cus_${suffix()}`, email: email.toLowerCase(), firstName: "Ada", lastName: "Customer" })
    .returning();
  return row!;
}

/**
 * A class offered as FULL_SCHEDULE and DROP_IN with a weekly schedule pattern and `sessions`
 * future sessions of that pattern, each with a qualified instructor and the given capacity.
 * Sessions are returned in start order (the order a booking lists them).
 */
export async function makeSchedule(
  options: { sessions?: number; capacity?: number; pricePence?: number; fullSchedulePricePence?: number; resource?: { quantity: number; perStudent: number } } = {},
) {
  const role = await makeRole();
  const klass = await makeClass({
    requiredRoleId: role.id,
    pricePence: options.pricePence ?? 2500,
    fullSchedulePricePence: options.fullSchedulePricePence ?? 8000,
    bookingKinds: ["SINGLE_SESSION", "DROP_IN", "FULL_SCHEDULE"],
  });
  let resource;
  if (options.resource) {
    resource = await makeResource(klass.studioId, { quantity: options.resource.quantity });
    await requireResource(klass.id, resource.id, options.resource.perStudent);
  }
  const [pattern] = await db()
    .insert(t.schedulePatterns)
    .values({
      id: `pat_${suffix()}`,
      classId: klass.id,
      frequency: "WEEKLY",
      interval: 1,
      byWeekday: ["MO"],
      count: options.sessions ?? 4,
      startDate: "2030-01-07",
      startTime: "18:00",
      durationMinutes: 60,
      maxStudents: options.capacity ?? 5,
      exceptionDates: [],
      defaultAssistantIds: [],
    })
    .returning();
  const base = Date.now() + 7 * 24 * 3600_000 + Math.floor(Math.random() * 3600_000);
  const sessions = [];
  for (let i = 0; i < (options.sessions ?? 4); i++) {
    const instructor = await makeStaff([role.id]);
    sessions.push(
      await makeSession(klass.id, {
        capacity: options.capacity ?? 5,
        instructorId: instructor.id,
        patternId: pattern!.id,
        startsAt: new Date(base + i * 7 * 24 * 3600_000),
      }),
    );
  }
  return { klass, pattern: pattern!, sessions, resource };
}
