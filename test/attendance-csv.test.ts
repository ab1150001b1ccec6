/** GET /api/v1/admin/sessions/{id}/roster.csv: the roster as RFC 4180 CSV, parsed back. */
import { env } from "cloudflare:workers";
import { parse } from "csv-parse/browser/esm/sync";
import { describe, expect, it } from "vitest";
import { call, tokenFor } from "./helpers";
import { bookedSeats, mark, roster, sessionStartingIn, staffToken } from "./attendance-helpers";

describe("GET /api/v1/admin/sessions/{id}/roster.csv", () => {
  it("has a header and one row per seat, as the JSON roster; formula-looking names are neutralised, quotes and commas survive", async () => {
    const staff = await staffToken();
    const { session } = await sessionStartingIn(-5);
    const { bookingId, attendeeIds } = await bookedSeats(session.id, 3);
    // Rows stored before names were checked (or typed by a customer) are not to be trusted.
    await env.DB.prepare(`UPDATE customers SET first_name = '=HYPERLINK("http://evil.example")', last_name = 'X' WHERE id = (SELECT customer_id FROM bookings WHERE id = ?)`).bind(bookingId).run();
    await roster(session.id, staff);
    await env.DB.prepare(`UPDATE booking_attendees SET name = ?, email = ? WHERE id = ?`).bind(`O'Brien, "Jo"`, "jo@example.test", attendeeIds[1]).run();
    expect((await mark(session.id, attendeeIds[1]!, "check-in", staff)).status).toBe(200);

    const response = await call("GET", `/api/v1/admin/sessions/${session.id}/roster.csv`, { token: staff });
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
    expect(response.headers.get("Content-Disposition")).toBe(`attachment; filename="roster-${session.id}.csv"`);
    expect(response.text).toContain("\r\n");
    const rows: string[][] = parse(response.text);
    expect(rows[0]).toEqual(["attendeeId", "bookingId", "position", "name", "email", "status", "recordedBy", "recordedAt"]);
    const json = (await roster(session.id, staff)).json.data;
    expect(rows.slice(1)).toEqual(
      json.map((entry: Record<string, unknown>) =>
        [entry.attendeeId, entry.bookingId, String(entry.position), entry.name, entry.email, entry.status, entry.recordedBy, entry.recordedAt].map((cell) =>
          cell === null ? "" : typeof cell === "string" && cell.startsWith("=") ? `'${cell}` : String(cell),
        ),
      ),
    );
    expect(rows[1]![3]).toBe(`'=HYPERLINK("http://evil.example") X`);
    expect(rows[2]!.slice(3, 6)).toEqual([`O'Brien, "Jo"`, "jo@example.test", "checked_in"]);
    expect(rows[3]!.slice(3, 6)).toEqual(["", "", "booked"]);
  });

  it("is 404 for an unknown session and refused to customers and anonymous callers", async () => {
    expect((await call("GET", `/api/v1/admin/sessions/ses_missing/roster.csv`, { token: await staffToken() })).status).toBe(404);
    const { session } = await sessionStartingIn(10);
    expect((await call("GET", `/api/v1/admin/sessions/${session.id}/roster.csv`)).status).toBe(401);
    expect((await call("GET", `/api/v1/admin/sessions/${session.id}/roster.csv`, { token: await tokenFor("customer") })).status).toBe(403);
  });
});
