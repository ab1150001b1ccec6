/**
 * Course-level "notify me": registering interest in a course that cannot be bought (no trainer),
 * checking it, and being notified once when a qualified instructor is assigned.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, eventually, tokenFor } from "./helpers";
import { nextClientIp, postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeCity, makeClass, makeRole, makeSession, makeStaff, makeStudio } from "./fixtures";
import { messageTo, sentMessages } from "./waitlist-helpers";

function register(body: unknown, token?: string) {
  return call("POST", "/api/v1/demand/waitlist", { body, ...(token ? { token } : {}), headers: { "CF-Connecting-IP": nextClientIp() } });
}

function check(query: string, token?: string) {
  return call("GET", `/api/v1/demand/waitlist/check?${query}`, { ...(token ? { token } : {}), headers: { "CF-Connecting-IP": nextClientIp() } });
}

/** A course in a city whose only upcoming session has no instructor yet. */
async function untaughtCourse() {
  const city = await makeCity();
  const studio = await makeStudio({ cityId: city.id });
  const role = await makeRole();
  const klass = await makeClass({ studioId: studio.id, requiredRoleId: role.id, pricePence: 3000 });
  const session = await makeSession(klass.id, { instructorId: null });
  return { city, studio, role, klass, session };
}

async function notifiedAt(courseId: string, email: string) {
  const row = await env.DB.prepare(`SELECT notified_at AS notifiedAt, notified_session_id AS sessionId FROM course_interest WHERE course_id = ? AND email = ?`)
    .bind(courseId, email)
    .first<{ notifiedAt: number | null; sessionId: string | null }>();
  return row;
}

describe("notify me when a course can be booked", () => {
  it("a NO_TRAINER refusal invites registration; registering twice is one registration; check says so", async () => {
    const { klass, session, city } = await untaughtCourse();
    const email = uniqueEmail("interest");
    const refused = await postBooking(singleBookingBody(session.id, 3000, { contact: { email, firstName: "Nia", lastName: "Trainer" } }));
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: "NO_TRAINER", details: { courseId: klass.id, cityId: city.id, canRegisterInterest: true } });

    const first = await register({ courseId: klass.id, cityId: city.id, email: email.toUpperCase() });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ registered: true, created: true, registration: { courseId: klass.id, cityId: city.id, email, notifiedAt: null } });
    const repeat = await register({ courseId: klass.id, cityId: city.id, email });
    expect(repeat.status).toBe(200);
    expect(repeat.json.created).toBe(false);
    expect(repeat.json.registration).toMatchObject({ registeredAt: null, notifiedAt: null });
    const rows = await env.DB.prepare(`SELECT count(*) AS n FROM course_interest WHERE course_id = ?`).bind(klass.id).first<{ n: number }>();
    expect(rows?.n).toBe(1);

    // Anyone may ask whether an email is registered; only its owner or staff see the registrations.
    expect((await check(`courseId=${klass.id}&email=${encodeURIComponent(email)}`)).json).toEqual({ registered: true, registrations: [] });
    const staffView = await check(`courseId=${klass.id}&email=${encodeURIComponent(email)}`, await tokenFor("staff"));
    expect(staffView.json.registrations).toEqual([expect.objectContaining({ cityId: city.id, registeredAt: expect.any(String) })]);
    expect((await check(`courseId=${klass.id}&email=${encodeURIComponent(uniqueEmail())}`)).json).toEqual({ registered: false, registrations: [] });
    const customer = await tokenFor("customer", email);
    expect((await check(`courseId=${klass.id}`, customer)).json.registered).toBe(true);
  });

  it("validates what it is sent", async () => {
    const { klass } = await untaughtCourse();
    expect((await register({ courseId: "cls_missing", email: uniqueEmail() })).status).toBe(404);
    const badCity = await register({ courseId: klass.id, cityId: "cty_missing", email: uniqueEmail() });
    expect(badCity.status).toBe(422);
    expect(badCity.json.error).toMatchObject({ code: "INVALID_REFERENCE", details: { field: "cityId" } });
    const noEmail = await register({ courseId: klass.id });
    expect(noEmail.status).toBe(400);
    expect(noEmail.json.error.details.issues[0].path).toBe("email");
    const badEmail = await register({ courseId: klass.id, email: "not-an-email" });
    expect(badEmail.status).toBe(400);
    const customer = await tokenFor("customer");
    expect((await register({ courseId: klass.id, email: uniqueEmail() }, customer)).status).toBe(403);
    expect((await check(`email=${encodeURIComponent(uniqueEmail())}`)).status).toBe(400);
  });

  it("assigning a qualified instructor notifies everyone registered for that course in that city (or any city), exactly once", async () => {
    const { klass, session, city, role } = await untaughtCourse();
    const elsewhere = await makeCity();
    const [inCity, anyCity, otherCity] = [uniqueEmail("in"), uniqueEmail("any"), uniqueEmail("other")];
    await register({ courseId: klass.id, cityId: city.id, email: inCity });
    await register({ courseId: klass.id, email: anyCity });
    // The course is taught in one city: interest in another could never be answered.
    const wrongCity = await register({ courseId: klass.id, cityId: elsewhere.id, email: otherCity });
    expect(wrongCity.status).toBe(422);
    expect(wrongCity.json.error).toMatchObject({ code: "INVALID_REFERENCE", details: { field: "cityId", courseCityId: city.id } });

    const admin = await tokenFor("admin");
    const unqualified = await makeStaff([]);
    expect((await call("PUT", `/api/v1/admin/sessions/${session.id}/staff`, { token: admin, body: { instructorId: unqualified.id, assistantIds: [] } })).status).toBe(422);
    expect((await notifiedAt(klass.id, inCity))?.notifiedAt).toBeNull();

    const instructor = await makeStaff([role.id]);
    const assigned = await call("PUT", `/api/v1/admin/sessions/${session.id}/staff`, { token: admin, body: { instructorId: instructor.id, assistantIds: [] } });
    expect(assigned.status).toBe(200);
    const first = await eventually(async () => (await notifiedAt(klass.id, inCity))?.notifiedAt);
    expect(await notifiedAt(klass.id, anyCity)).toMatchObject({ notifiedAt: expect.any(Number), sessionId: session.id });
    expect(await notifiedAt(klass.id, otherCity)).toBeNull();

    // Again, and the hourly sweep: nobody is notified twice.
    await call("PUT", `/api/v1/admin/sessions/${session.id}/staff`, { token: admin, body: { instructorId: instructor.id, assistantIds: [] } });
    const worker = exports.default as unknown as { scheduled(options: { cron: string; scheduledTime: number }): Promise<unknown> };
    await worker.scheduled({ cron: "0 * * * *", scheduledTime: Date.now() });
    expect((await notifiedAt(klass.id, inCity))?.notifiedAt).toBe(first);
    const ownerView = await check(`courseId=${klass.id}`, await tokenFor("customer", inCity));
    expect(ownerView.json.registrations[0].notifiedAt).toBe(new Date(first).toISOString());
    const message = await messageTo(inCity, "TRAINER_AVAILABLE");
    expect(message.subject).toContain(klass.name);
    await messageTo(anyCity, "TRAINER_AVAILABLE");
    expect(await sentMessages(otherCity)).toEqual([]);
    expect((await sentMessages(inCity)).filter((sent) => sent.type === "TRAINER_AVAILABLE")).toHaveLength(1);
  });

  it("the hourly sweep notifies registrations for a course that became bookable another way", async () => {
    const { klass, session, role } = await untaughtCourse();
    const email = uniqueEmail("sweep");
    await register({ courseId: klass.id, email });
    // The instructor was assigned before anyone registered, so no staffing change follows the registration.
    const instructor = await makeStaff([role.id]);
    await env.DB.prepare(`UPDATE class_sessions SET instructor_id = ? WHERE id = ?`).bind(instructor.id, session.id).run();
    const worker = exports.default as unknown as { scheduled(options: { cron: string; scheduledTime: number }): Promise<unknown> };
    await worker.scheduled({ cron: "0 * * * *", scheduledTime: Date.now() });
    expect((await notifiedAt(klass.id, email))?.notifiedAt).toEqual(expect.any(Number));
  });
});
