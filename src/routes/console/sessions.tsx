/**
 * GET /admin/sessions (a week, day by day) and GET /admin/sessions/{id} (staff, waiting list,
 * capacity check). Reads go through the admin API's session query and the staffing, waitlist and
 * availability services; the forms on the page call the admin API.
 */
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import { DateTime } from "luxon";
import { getDb } from "../../db/client";
import { classes, classSessions, teachingRoles, WAITLIST_PRIORITIES } from "../../db/schema";
import type { AppEnv } from "../../env";
import { ConsoleNotFoundPage } from "../../pages/console/not-found";
import { type CapacityCheck, SessionDetailPage } from "../../pages/console/session-detail";
import { SessionsWeekPage } from "../../pages/console/sessions";
import { sessionAvailability } from "../../services/availability";
import { availableAmong, qualifiedStaffFor } from "../../services/staff-assignment";
import { sessionWaitlist } from "../../services/waitlist";
import { sessionViews } from "../admin/sessions";
import { pageUser, renderPage } from "../page-response";
import { CONSOLE_ZONE, consoleSessions, dayStart, sessionsBetween } from "./console-data";

/** Monday of the week holding `week` (YYYY-MM-DD), else of this week, in the console's zone. */
function weekStart(week: string | undefined): DateTime {
  const asked = week && /^\d{4}-\d{2}-\d{2}$/.test(week) ? DateTime.fromISO(week, { zone: CONSOLE_ZONE }) : undefined;
  const day = asked?.isValid && asked.year >= 2000 && asked.year <= 2199 ? asked : dayStart(new Date());
  return day.startOf("day").minus({ days: day.weekday - 1 });
}

export const consoleSessionPages = new Hono<AppEnv>()
  .get("/", async (c) => {
    const monday = weekStart(c.req.query("week"));
    const sessions = await sessionsBetween(c.env, getDb(c.env.DB), monday.toJSDate(), monday.plus({ days: 7 }).toJSDate(), new Date());
    const days = Array.from({ length: 7 }, (_, i) => {
      const start = monday.plus({ days: i });
      const end = start.plus({ days: 1 });
      return {
        date: start.toISODate()!,
        label: start.toFormat("cccc d LLLL"),
        sessions: sessions.filter((s) => Date.parse(s.startsAt) >= start.toMillis() && Date.parse(s.startsAt) < end.toMillis()),
      };
    });
    return renderPage(
      c,
      <SessionsWeekPage
        user={pageUser(c)}
        zone={CONSOLE_ZONE}
        weekLabel={monday.toFormat("ccc d LLL yyyy")}
        days={days}
        previousWeek={monday.minus({ weeks: 1 }).toISODate()!}
        nextWeek={monday.plus({ weeks: 1 }).toISODate()!}
      />,
    );
  })
  .get("/:id", async (c) => {
    const id = c.req.param("id");
    const db = getDb(c.env.DB);
    const [view] = await sessionViews(db, eq(classSessions.id, id), 1);
    const user = pageUser(c);
    if (!view) return renderPage(c, <ConsoleNotFoundPage user={user} what="Session" id={id} back={{ href: "/admin/sessions", label: "Back to sessions" }} />, { status: 404 });
    const [session] = consoleSessions(c.env, [view], new Date());
    const [role] = await db
      .select({ id: teachingRoles.id, name: teachingRoles.name })
      .from(classes)
      .innerJoin(teachingRoles, eq(teachingRoles.id, classes.requiredRoleId))
      .where(eq(classes.id, view.classId));
    const people = role ? await qualifiedStaffFor(db, role.id) : [];
    const [free, waitlist, capacity] = await Promise.all([
      availableAmong(db, people.map((p) => p.id), { sessionId: id, startsAt: new Date(view.startsAt), endsAt: new Date(view.endsAt) }),
      sessionWaitlist(c.env, db, id),
      capacityCheck(c.env, db, id, view),
    ]);
    return renderPage(
      c,
      <SessionDetailPage
        user={user}
        session={{ ...session!, location: view.location, instructorId: view.instructor?.id ?? null, assistantIds: view.assistants.map((a) => a.id) }}
        requiredRole={role?.name ?? "(unknown)"}
        qualified={people.map((p) => ({ id: p.id, name: `${p.firstName} ${p.lastName}`, email: p.email, available: free.has(p.id) }))}
        waitlist={waitlist.map((e) => ({
          id: e.id,
          name: [e.firstName, e.lastName].filter(Boolean).join(" ") || "(name not given)",
          email: e.email,
          guestCount: e.guestCount,
          priority: e.priority,
          status: e.status,
          position: e.position,
          confirmed: e.confirmed,
          offerExpiresAt: e.offer ? new Date(e.offer.expiresAt).toISOString() : null,
        }))}
        capacity={capacity}
        priorities={WAITLIST_PRIORITIES}
        isAdmin={user?.role === "admin"}
      />,
    );
  });

/** The DO's count beside the projection's; the page still renders when the DO cannot answer. */
async function capacityCheck(env: AppEnv["Bindings"], db: ReturnType<typeof getDb>, id: string, view: { capacity: number; seatsBooked: number }): Promise<CapacityCheck> {
  const projected = { capacity: view.capacity, seatsBooked: view.seatsBooked };
  try {
    const live = await sessionAvailability(env, db, id);
    return { live: { capacity: live.capacity, booked: live.booked, held: live.held, availableSpots: live.availableSpots, waitlistLength: live.waitlistLength, status: live.status }, projected };
  } catch (error) {
    console.warn(JSON.stringify({ level: "warn", msg: "console capacity check failed", sessionId: id, error: String(error) }));
    return { live: { problem: "The session's ledger could not be read just now; reload to try again." }, projected };
  }
}
