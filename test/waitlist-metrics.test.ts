/**
 * Waitlist metrics from real flows: an offer the party walks away from (leaving the line while
 * offered) counts against the acceptance rate, through the DO's outbox, the events queue and the
 * daily rollup.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addDays, utcDateOf } from "../src/domain/metric-periods";
import { rollupDay } from "../src/jobs/rollups";
import { call, eventually } from "./helpers";
import { cancelBooking, entryOf, fullSession, join, joinBody } from "./waitlist-helpers";

describe("waitlist acceptance from real flows", () => {
  it("an offer ended by leaving the line is a withdrawn offer: acceptance 0 of 1", async () => {
    const started = Date.now();
    const { session, klass, bookings } = await fullSession([1]);
    const joined = await join(session.id, joinBody(1));
    expect(joined.status).toBe(201);
    const entryId = joined.json.entry.id;

    expect((await cancelBooking(bookings[0]!)).status).toBe(200);
    await eventually(async () => (await entryOf(session.id, entryId)).status === "offered");
    const leave = await call("DELETE", `/api/v1/sessions/${session.id}/waitlist/me`, { headers: { "X-Waitlist-Token": joined.json.token } });
    expect(leave.status).toBe(200);

    await eventually(async () => {
      const row = await env.DB.prepare(`SELECT count(*) AS n FROM events WHERE session_id = ? AND type IN ('OFFER_SENT', 'WAITLIST_LEFT')`).bind(session.id).first<{ n: number }>();
      return row!.n === 2;
    });
    const days = [...new Set([utcDateOf(started), utcDateOf(Date.now())])];
    for (const day of days) await rollupDay(env.DB, day, Date.parse(`${addDays(day, 1)}T00:00:00Z`));
    const { results } = await env.DB.prepare(
      `SELECT metric, sum(value) AS value, sum(denominator) AS denominator FROM metrics
       WHERE granularity = 'daily' AND scope = 'class' AND scope_id = ? AND period_start IN (SELECT value FROM json_each(?)) AND metric LIKE 'waitlist.%'
       GROUP BY metric`,
    )
      .bind(klass.id, JSON.stringify(days))
      .all<{ metric: string; value: number; denominator: number | null }>();
    const metrics = Object.fromEntries(results.map((row) => [row.metric, [row.value, row.denominator]]));
    expect(metrics).toMatchObject({
      "waitlist.joins": [1, null],
      "waitlist.offers": [1, null],
      "waitlist.offers_withdrawn": [1, null],
      "waitlist.acceptance_rate": [0, 1],
    });
  });
});
