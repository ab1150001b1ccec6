/**
 * Seeds the local D1 (the one `wrangler dev` uses) with a small demo catalog, then generates the
 * sessions of every demo schedule through the same service the admin API uses.
 *
 * Idempotent: rows have fixed ids and are inserted with ON CONFLICT DO NOTHING, and session
 * generation creates nothing that exists already, so running it twice duplicates nothing.
 */
import { DateTime } from "luxon";
import { getPlatformProxy } from "wrangler";
import { configOf } from "../src/config";
import { getDb } from "../src/db/client";
import * as t from "../src/db/schema";
import type { Env } from "../src/env";
import { generateSessionsForPattern } from "../src/services/session-generation";

const ZONE = "Europe/London";

/** The studio-local date of the next given weekday (1 = Monday) after today, so demo sessions are upcoming. */
function nextWeekday(weekday: number): string {
  const today = DateTime.now().setZone(ZONE).startOf("day");
  const daysAhead = ((weekday - today.weekday + 7) % 7) || 7;
  return today.plus({ days: daysAhead }).toISODate()!;
}

const { env, dispose } = await getPlatformProxy<Pick<Env, "DB" | "MAX_OCCURRENCES_PER_PATTERN" | "JWT_SECRET">>({
  configPath: "wrangler.toml",
});
try {
  // The whole configuration (wrangler.toml vars and .dev.vars), so a bad setting stops `npm start` here.
  const { maxOccurrencesPerPattern } = configOf(env);
  const db = getDb(env.DB);

  await db
    .insert(t.cities)
    .values([
      { id: "cty_london", name: "London", countryCode: "GB" },
      { id: "cty_manchester", name: "Manchester", countryCode: "GB" },
    ])
    .onConflictDoNothing();

  await db
    .insert(t.studios)
    .values([
      { id: "stu_clay_kiln", name: "Clay & Kiln Studio", cityId: "cty_london", timeZone: ZONE, address: "12 Kiln Yard, London E2" },
      { id: "stu_northern_loft", name: "Northern Loft", cityId: "cty_manchester", timeZone: ZONE, address: "4 Mill Lane, Manchester M4" },
    ])
    .onConflictDoNothing();

  await db
    .insert(t.teachingRoles)
    .values([
      { id: "rol_pottery", name: "Pottery teacher", description: "Teaches wheel throwing and hand building" },
      { id: "rol_yoga", name: "Yoga teacher", description: "Certified yoga instructor" },
      { id: "rol_life_drawing", name: "Life drawing tutor", description: "Leads life drawing sessions" },
    ])
    .onConflictDoNothing();

  await db
    .insert(t.staff)
    .values([
      { id: "stf_ana", email: "ana@clay-kiln.example", firstName: "Ana", lastName: "Okafor" },
      { id: "stf_ben", email: "ben@clay-kiln.example", firstName: "Ben", lastName: "Marsh" },
      { id: "stf_chloe", email: "chloe@northern-loft.example", firstName: "Chloe", lastName: "Price" },
    ])
    .onConflictDoNothing();
  // Who may sign in to the console (by emailed link, read at /dev/mailbox): the studio's admin and its teachers.
  await db
    .insert(t.accounts)
    .values([
      { id: "acc_admin", email: "admin@clay-kiln.example", role: "admin", roleSetBy: "seed" },
      { id: "acc_ana", email: "ana@clay-kiln.example", role: "staff", staffId: "stf_ana", roleSetBy: "seed" },
      { id: "acc_ben", email: "ben@clay-kiln.example", role: "staff", staffId: "stf_ben", roleSetBy: "seed" },
      { id: "acc_chloe", email: "chloe@northern-loft.example", role: "staff", staffId: "stf_chloe", roleSetBy: "seed" },
    ])
    .onConflictDoNothing();
  // Nobody holds the life drawing role yet: those sessions have no instructor.
  await db
    .insert(t.staffTeachingRoles)
    .values([
      { staffId: "stf_ana", roleId: "rol_pottery" },
      { staffId: "stf_ben", roleId: "rol_pottery" },
      { staffId: "stf_chloe", roleId: "rol_yoga" },
    ])
    .onConflictDoNothing();

  await db
    .insert(t.resources)
    .values([
      { id: "res_wheels", studioId: "stu_clay_kiln", name: "Potter's wheel", quantity: 8 },
      { id: "res_easels", studioId: "stu_clay_kiln", name: "Easel", quantity: 14 },
      { id: "res_mats", studioId: "stu_northern_loft", name: "Yoga mat", quantity: 20 },
    ])
    .onConflictDoNothing();

  await db
    .insert(t.classes)
    .values([
      {
        id: "cls_wheel_basics",
        studioId: "stu_clay_kiln",
        name: "Wheel throwing: basics",
        description: "Two hours on the wheel: centring, opening and pulling your first pots.",
        pricePence: 4500,
        durationMinutes: 120,
        defaultCapacity: 8,
        requiredRoleId: "rol_pottery",
        bookingKinds: ["SINGLE_SESSION", "DROP_IN"],
        // Paid when booking (the local provider's checkout in development); the yoga classes are paid at the desk.
        paymentMode: "online",
      },
      {
        id: "cls_pottery_course",
        studioId: "stu_clay_kiln",
        name: "Six-week pottery course",
        description: "From clay to glaze in six evenings. Book the whole course.",
        pricePence: 4000,
        fullSchedulePricePence: 21000,
        // A course keeps a share when dropped late, and cannot be dropped online in its last day.
        freeCancellationHours: 72,
        lateCancellationFeePercent: 25,
        selfCancelCutoffHours: 24,
        paymentMode: "online",
        durationMinutes: 150,
        defaultCapacity: 8,
        requiredRoleId: "rol_pottery",
        bookingKinds: ["FULL_SCHEDULE"],
      },
      {
        id: "cls_vinyasa",
        studioId: "stu_northern_loft",
        name: "Morning vinyasa flow",
        description: "A dynamic hour of breath-led movement. Mats provided.",
        pricePence: 1200,
        durationMinutes: 60,
        defaultCapacity: 20,
        requiredRoleId: "rol_yoga",
        bookingKinds: ["SINGLE_SESSION", "DROP_IN"],
      },
      {
        id: "cls_life_drawing",
        studioId: "stu_clay_kiln",
        name: "Life drawing evening",
        description: "Untutored life drawing with a model; easels and paper included.",
        pricePence: 1800,
        durationMinutes: 120,
        defaultCapacity: 14,
        requiredRoleId: "rol_life_drawing",
        bookingKinds: ["SINGLE_SESSION"],
      },
    ])
    .onConflictDoNothing();

  await db
    .insert(t.classResourceRequirements)
    .values([
      { classId: "cls_wheel_basics", resourceId: "res_wheels", quantityPerStudent: 1 },
      { classId: "cls_pottery_course", resourceId: "res_wheels", quantityPerStudent: 1 },
      { classId: "cls_vinyasa", resourceId: "res_mats", quantityPerStudent: 1 },
      { classId: "cls_life_drawing", resourceId: "res_easels", quantityPerStudent: 1 },
    ])
    .onConflictDoNothing();

  const patterns: (typeof t.schedulePatterns.$inferInsert)[] = [
    {
      id: "pat_wheel_saturdays",
      classId: "cls_wheel_basics",
      frequency: "WEEKLY",
      interval: 1,
      byWeekday: ["SA"],
      count: 10,
      startDate: nextWeekday(6),
      startTime: "10:00",
      durationMinutes: 120,
      maxStudents: 8,
      location: "Wheel room",
      exceptionDates: [],
      defaultInstructorId: "stf_ana",
      defaultAssistantIds: [],
    },
    {
      id: "pat_pottery_course",
      classId: "cls_pottery_course",
      frequency: "WEEKLY",
      interval: 1,
      byWeekday: ["WE"],
      count: 6,
      startDate: nextWeekday(3),
      startTime: "18:30",
      durationMinutes: 150,
      maxStudents: 8,
      location: "Wheel room",
      exceptionDates: [],
      defaultInstructorId: "stf_ben",
      defaultAssistantIds: ["stf_ana"],
    },
    {
      id: "pat_vinyasa_mornings",
      classId: "cls_vinyasa",
      frequency: "WEEKLY",
      interval: 1,
      byWeekday: ["MO", "TH"],
      count: 16,
      startDate: nextWeekday(1),
      startTime: "07:00",
      durationMinutes: 60,
      maxStudents: 20,
      location: "Main hall",
      exceptionDates: [],
      defaultInstructorId: "stf_chloe",
      defaultAssistantIds: [],
    },
    {
      id: "pat_life_drawing",
      classId: "cls_life_drawing",
      frequency: "WEEKLY",
      interval: 2,
      byWeekday: ["TU"],
      count: 6,
      startDate: nextWeekday(2),
      startTime: "19:00",
      durationMinutes: 120,
      maxStudents: 14,
      location: "Studio B",
      exceptionDates: [],
      defaultInstructorId: null,
      defaultAssistantIds: [],
    },
  ];
  await db.insert(t.schedulePatterns).values(patterns).onConflictDoNothing();

  for (const pattern of patterns) {
    const report = await generateSessionsForPattern(db, pattern.id!, { now: new Date(), maxOccurrences: maxOccurrencesPerPattern });
    const { created, updated, unchanged, removed, skippedPast } = report;
    console.log(`seed: ${pattern.id}: ${JSON.stringify({ created, updated, unchanged, removed, skippedPast })}`);
  }
  console.log("seed: demo catalog ready");
} finally {
  await dispose();
}
