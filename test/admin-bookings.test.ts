import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { postBooking, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { call, eventually, tokenFor } from "./helpers";

describe("GET /api/v1/admin/bookings", () => {
  it("filters by session, class, email and status, newest first, with a cursor", async () => {
    const { session, klass } = await makeBookableSession({ capacity: 10, pricePence: 1000 });
    const emails = [uniqueEmail("a"), uniqueEmail("b"), uniqueEmail("c")];
    const created = [];
    for (const email of emails) {
      const response = await postBooking(singleBookingBody(session.id, 1000, { contact: { email, firstName: "F", lastName: "L" } }));
      expect(response.status).toBe(201);
      created.push(response.json);
    }
    await call("POST", `/api/v1/bookings/${created[0].booking.id}/cancel?token=${created[0].manageToken}`);
    const staff = await tokenFor("staff");
    // The list reads D1, a projection written after each answer: wait until it has all three, one cancelled.
    await eventually(async () => {
      const row = await env.DB.prepare(`SELECT count(*) AS n, sum(status = 'cancelled') AS cancelled FROM bookings WHERE class_id = ?`).bind(klass.id).first<{ n: number; cancelled: number }>();
      return row?.n === 3 && row.cancelled === 1;
    });

    const bySession = await call("GET", `/api/v1/admin/bookings?sessionId=${session.id}&limit=2`, { token: staff });
    expect(bySession.status).toBe(200);
    expect(bySession.json.data).toHaveLength(2);
    expect(bySession.json.data[0].lines[0]).toMatchObject({ sessionId: session.id, seats: 1 });
    expect(bySession.json.data[0]).not.toHaveProperty("manageTokenHash");
    const next = await call("GET", `/api/v1/admin/bookings?sessionId=${session.id}&limit=2&cursor=${bySession.json.nextCursor}`, { token: staff });
    const ids = [...bySession.json.data, ...next.json.data].map((b: { id: string }) => b.id);
    expect(ids.sort()).toEqual(created.map((c) => c.booking.id).sort());
    expect(next.json.nextCursor).toBeNull();

    const byEmail = await call("GET", `/api/v1/admin/bookings?email=${encodeURIComponent(emails[1]!.toUpperCase())}`, { token: staff });
    expect(byEmail.json.data.map((b: { id: string }) => b.id)).toEqual([created[1].booking.id]);

    const cancelled = await call("GET", `/api/v1/admin/bookings?classId=${klass.id}&status=cancelled`, { token: staff });
    expect(cancelled.json.data.map((b: { id: string }) => b.id)).toEqual([created[0].booking.id]);

    const future = await call("GET", `/api/v1/admin/bookings?classId=${klass.id}&from=${new Date(Date.now() + 3600_000).toISOString()}`, { token: staff });
    expect(future.json.data).toEqual([]);
  });

  it("validates the query and needs staff or admin", async () => {
    const admin = await tokenFor("admin");
    const bad = await call("GET", "/api/v1/admin/bookings?status=lost&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", { token: admin });
    expect(bad.status).toBe(400);
    expect((await call("GET", "/api/v1/admin/bookings")).status).toBe(401);
    expect((await call("GET", "/api/v1/admin/bookings", { token: await tokenFor("customer") })).status).toBe(403);
  });
});
