/** GET /api/v1/admin/demand/analytics over demand_signals rows seeded directly. */
import { env } from "cloudflare:workers";
import { SQLiteSyncDialect } from "drizzle-orm/sqlite-core";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../src/db/client";
import { demandSignals } from "../src/db/schema";
import { demandSignalOf, unmetDemandKind } from "../src/domain/demand-signals";
import { type DomainEvent, domainEvent } from "../src/domain/events";
import { analyticsQueries } from "../src/services/demand-analytics";
import { makeCity, makeClass } from "./fixtures";
import { call, tokenFor } from "./helpers";

type SignalType = "COURSE_VIEW" | "CHECKOUT_STARTED" | "PURCHASE_BLOCKED" | "WAITLIST";

/** The reason the events consumer gives each type by default here: no trainer (refusal or notify-me). */
const NO_TRAINER_REASON: Record<SignalType, string | null> = { PURCHASE_BLOCKED: "NO_TRAINER", WAITLIST: "no_trainer", COURSE_VIEW: null, CHECKOUT_STARTED: null };

/** `count` signals of one type for a course and city at an instant (a no-trainer reason unless told). */
function signals(courseId: string, cityId: string | null, signalType: SignalType, at: string, count = 1, reason = NO_TRAINER_REASON[signalType]) {
  return Array.from({ length: count }, () => ({
    id: `sig_${crypto.randomUUID().replaceAll("-", "")}`,
    courseId,
    cityId,
    signalType,
    reason,
    createdAt: new Date(at),
  }));
}

/** The unmet-demand fields of a row with only no-trainer signals. */
const hiringOnly = (blocked: number, waitlist: number) => ({
  blockedNoTrainer: blocked,
  notifyMe: waitlist,
  blockedSoldOut: 0,
  sessionWaitlist: 0,
  hiringDemand: blocked + waitlist,
  soldOutDemand: 0,
});

async function seed(rows: ReturnType<typeof signals>) {
  const db = getDb(env.DB);
  for (let i = 0; i < rows.length; i += 10) await db.insert(demandSignals).values(rows.slice(i, i + 10));
}

let staff: string;
const analytics = (query: string, token = staff) => call("GET", `/api/v1/admin/demand/analytics${query}`, { token });

beforeAll(async () => {
  staff = await tokenFor("staff");
});

describe("aggregations", () => {
  it("counts each type per course and per city and course; no filters means every course", async () => {
    const [london, leeds] = [await makeCity(), await makeCity()];
    const [pottery, weaving] = [await makeClass(), await makeClass()];
    const gone = `cls_deleted_${crypto.randomUUID().slice(0, 8)}`;
    const day = "2024-05-10T12:00:00Z";
    await seed([
      ...signals(pottery.id, london.id, "COURSE_VIEW", day, 3),
      ...signals(pottery.id, london.id, "CHECKOUT_STARTED", day, 2),
      ...signals(pottery.id, leeds.id, "PURCHASE_BLOCKED", day, 4),
      ...signals(pottery.id, null, "WAITLIST", day, 1),
      ...signals(weaving.id, leeds.id, "COURSE_VIEW", day, 1),
      ...signals(weaving.id, leeds.id, "WAITLIST", day, 2),
      ...signals(gone, london.id, "COURSE_VIEW", day, 1),
    ]);

    const response = await analytics("");
    expect(response.status).toBe(200);
    expect(response.json.range).toEqual({ from: null, to: null });
    expect(response.json.filters).toEqual({ courseId: null, cityId: null });
    const { byCourse, byCityAndCourse } = response.json;
    expect(byCourse.find((row: { courseId: string }) => row.courseId === pottery.id)).toEqual({
      courseId: pottery.id,
      courseName: pottery.name,
      total: 10,
      blocked: 4,
      waitlist: 1,
      views: 3,
      checkouts: 2,
      ...hiringOnly(4, 1),
    });
    expect(byCourse.find((row: { courseId: string }) => row.courseId === weaving.id)).toMatchObject({ total: 3, blocked: 0, waitlist: 2, views: 1, checkouts: 0 });
    expect(byCourse.find((row: { courseId: string }) => row.courseId === gone)).toMatchObject({ courseName: null, total: 1, views: 1 });
    // Every course with a signal is listed, in courseId order.
    const { results } = await env.DB.prepare("SELECT DISTINCT course_id FROM demand_signals ORDER BY course_id").all<{ course_id: string }>();
    expect(byCourse.map((row: { courseId: string }) => row.courseId)).toEqual(results.map((row) => row.course_id));

    const potteryByCity = byCityAndCourse.filter((row: { courseId: string }) => row.courseId === pottery.id);
    expect(potteryByCity).toEqual([
      { cityId: null, cityName: null, courseId: pottery.id, courseName: pottery.name, total: 1, blocked: 0, waitlist: 1, views: 0, checkouts: 0, ...hiringOnly(0, 1) },
      ...[
        { cityId: london.id, cityName: london.name, courseId: pottery.id, courseName: pottery.name, total: 5, blocked: 0, waitlist: 0, views: 3, checkouts: 2, ...hiringOnly(0, 0) },
        { cityId: leeds.id, cityName: leeds.name, courseId: pottery.id, courseName: pottery.name, total: 4, blocked: 4, waitlist: 0, views: 0, checkouts: 0, ...hiringOnly(4, 0) },
      ].sort((a, b) => a.cityId.localeCompare(b.cityId)),
    ]);
  });
});

describe("date filtering (UTC days)", () => {
  it("a day range covers whole UTC days; instants bound exactly; offsets are honoured", async () => {
    const course = (await makeClass()).id;
    const city = (await makeCity()).id;
    await seed([
      ...signals(course, city, "COURSE_VIEW", "2021-02-28T23:59:59.999Z"),
      ...signals(course, city, "COURSE_VIEW", "2021-03-01T00:00:00.000Z"),
      ...signals(course, city, "PURCHASE_BLOCKED", "2021-03-01T23:59:59.999Z"),
      ...signals(course, city, "WAITLIST", "2021-03-02T00:00:00.000Z"),
    ]);
    const totalFor = async (query: string) => {
      const response = await analytics(`?courseId=${course}&${query}`);
      expect(response.status).toBe(200);
      return { total: response.json.byCourse[0]?.total ?? 0, range: response.json.range };
    };

    expect(await totalFor("startDate=2021-03-01&endDate=2021-03-01")).toEqual({
      total: 2,
      range: { from: "2021-03-01T00:00:00.000Z", to: "2021-03-02T00:00:00.000Z" },
    });
    expect((await totalFor("startDate=2021-03-01&endDate=2021-03-02")).total).toBe(3);
    expect((await totalFor("startDate=2021-03-01")).total).toBe(3);
    expect((await totalFor("endDate=2021-02-28")).total).toBe(1);
    expect((await totalFor("startDate=2021-03-01T12:00:00Z&endDate=2021-03-02T00:00:00Z")).total).toBe(2);
    // 01:00 in UTC+1 is midnight UTC.
    expect((await totalFor("startDate=2021-03-01T01:00:00%2B01:00&endDate=2021-03-01T01:00:00%2B01:00")).total).toBe(1);
    expect((await totalFor("startDate=2020-01-01&endDate=2020-12-31")).total).toBe(0);
  });
});

describe("city filtering", () => {
  it("counts only the city's signals, in every view", async () => {
    const [bath, york] = [await makeCity(), await makeCity()];
    const [a, b] = [(await makeClass()).id, (await makeClass()).id];
    const day = "2022-07-04T09:00:00Z";
    await seed([
      ...signals(a, bath.id, "PURCHASE_BLOCKED", day, 3),
      ...signals(a, york.id, "PURCHASE_BLOCKED", day, 5),
      ...signals(b, york.id, "WAITLIST", day, 2),
      ...signals(b, null, "WAITLIST", day, 1),
    ]);
    const response = await analytics(`?cityId=${bath.id}&startDate=2022-07-04&endDate=2022-07-04`);
    expect(response.json.filters).toEqual({ courseId: null, cityId: bath.id });
    expect(response.json.byCourse).toEqual([expect.objectContaining({ courseId: a, total: 3, blocked: 3 })]);
    expect(response.json.byCityAndCourse).toEqual([expect.objectContaining({ cityId: bath.id, cityName: bath.name, courseId: a, total: 3 })]);
    expect(response.json.topCourses).toEqual([expect.objectContaining({ courseId: a, unmetDemand: 3 })]);

    const yorkB = await analytics(`?cityId=${york.id}&courseId=${b}&startDate=2022-07-04&endDate=2022-07-04`);
    expect(yorkB.json.byCourse).toEqual([expect.objectContaining({ courseId: b, total: 2, waitlist: 2 })]);
  });
});

describe("top courses", () => {
  it("lists the 10 courses with the most blocked + waitlist demand, most first, ties by courseId", async () => {
    const day = "2023-11-15T18:30:00Z";
    const city = (await makeCity()).id;
    const prefix = `cls_top_${crypto.randomUUID().slice(0, 6)}`;
    // Course i has i blocked and (i % 3) waitlist signals, plus views that do not count.
    const demand = Array.from({ length: 13 }, (_, i) => ({ courseId: `${prefix}_${String(i).padStart(2, "0")}`, blocked: i, waitlist: i % 3 }));
    demand.push({ courseId: `${prefix}_tie_a`, blocked: 7, waitlist: 2 }, { courseId: `${prefix}_tie_b`, blocked: 9, waitlist: 0 });
    await seed(
      demand.flatMap(({ courseId, blocked, waitlist }) => [
        ...signals(courseId, city, "PURCHASE_BLOCKED", day, blocked),
        ...signals(courseId, city, "WAITLIST", day, waitlist),
        ...signals(courseId, city, "COURSE_VIEW", day, 20),
      ]),
    );
    const response = await analytics("?startDate=2023-11-15&endDate=2023-11-15");
    const expected = demand
      .map(({ courseId, blocked, waitlist }) => ({ courseId, unmetDemand: blocked + waitlist }))
      .filter((row) => row.unmetDemand > 0)
      .sort((x, y) => y.unmetDemand - x.unmetDemand || (x.courseId < y.courseId ? -1 : 1))
      .slice(0, 10);
    expect(response.json.topCourses.map((row: { courseId: string; unmetDemand: number }) => ({ courseId: row.courseId, unmetDemand: row.unmetDemand }))).toEqual(expected);
    // Three courses tie at 9 (09: 9 + 0, tie_a: 7 + 2, tie_b: 9 + 0): by courseId.
    const nines = response.json.topCourses.filter((row: { unmetDemand: number }) => row.unmetDemand === 9).map((row: { courseId: string }) => row.courseId);
    expect(nines).toEqual([`${prefix}_09`, `${prefix}_tie_a`, `${prefix}_tie_b`]);
    expect(response.json.topCourses[0]).toMatchObject({ courseId: `${prefix}_11`, blocked: 11, waitlist: 2, views: 20, total: 33, unmetDemand: 13 });
  });
});

describe("hiring demand and sold-out demand", () => {
  it("a sold-out course with many refusals does not top the hiring list; a no-trainer course does; sold-out demand is its own list", async () => {
    const day = "2025-09-09T10:00:00Z";
    const city = (await makeCity()).id;
    const [soldOut, untaught, mixed, other] = [(await makeClass()).id, (await makeClass()).id, (await makeClass()).id, (await makeClass()).id];
    await seed([
      // Turned away 30 times for seats and 10 on the waiting list: add a session, not a trainer.
      ...signals(soldOut, city, "PURCHASE_BLOCKED", day, 20, "SESSION_FULL"),
      ...signals(soldOut, city, "PURCHASE_BLOCKED", day, 10, "INSUFFICIENT_CAPACITY"),
      ...signals(soldOut, city, "WAITLIST", day, 10, "session_full"),
      // Nobody to teach it: 3 refusals and 2 notify-me registrations.
      ...signals(untaught, city, "PURCHASE_BLOCKED", day, 3, "NO_TRAINER"),
      ...signals(untaught, city, "WAITLIST", day, 2, "no_trainer"),
      // Both at once: 1 hiring, 7 sold out, never added together.
      ...signals(mixed, city, "PURCHASE_BLOCKED", day, 1, "NO_TRAINER"),
      ...signals(mixed, city, "WAITLIST", day, 7, "session_full"),
      // Neither: another refusal reason counts as blocked only.
      ...signals(other, city, "PURCHASE_BLOCKED", day, 50, "RESOURCE_UNAVAILABLE"),
    ]);
    const response = await analytics(`?cityId=${city}&startDate=2025-09-09&endDate=2025-09-09`);
    expect(response.status).toBe(200);
    const pick = (rows: { courseId: string }[]) => rows.map((row) => row.courseId);
    expect(pick(response.json.topCourses)).toEqual([untaught, mixed]);
    expect(response.json.topCourses[0]).toMatchObject({ courseId: untaught, unmetDemand: 5, hiringDemand: 5, blockedNoTrainer: 3, notifyMe: 2, soldOutDemand: 0, recommendation: "HIRE_TRAINER" });
    expect(response.json.topCourses[1]).toMatchObject({ courseId: mixed, unmetDemand: 1, hiringDemand: 1, soldOutDemand: 7 });
    expect(pick(response.json.soldOutCourses)).toEqual([soldOut, mixed]);
    expect(response.json.soldOutCourses[0]).toMatchObject({
      courseId: soldOut,
      soldOutDemand: 40,
      blockedSoldOut: 30,
      sessionWaitlist: 10,
      hiringDemand: 0,
      blocked: 30,
      waitlist: 10,
      recommendation: "ADD_SESSION",
    });
    const otherRow = response.json.byCourse.find((row: { courseId: string }) => row.courseId === other);
    expect(otherRow).toMatchObject({ blocked: 50, hiringDemand: 0, soldOutDemand: 0 });
    // The per-city rows carry the same two figures.
    expect(response.json.byCityAndCourse.find((row: { courseId: string }) => row.courseId === mixed)).toMatchObject({ cityId: city, hiringDemand: 1, soldOutDemand: 7 });
  });

  it("reads the reasons the events consumer writes: NO_TRAINER and notify-me are hiring demand, seats and session waitlists sold out", () => {
    const base = { classId: "cls_1", occurredAt: Date.now() };
    const kindOf = (event: DomainEvent) => {
      const signal = demandSignalOf(event)!;
      return unmetDemandKind(signal.signalType, signal.reason);
    };
    expect(kindOf(domainEvent("PURCHASE_BLOCKED", { ...base, code: "NO_TRAINER" }))).toBe("hiring");
    expect(kindOf(domainEvent("NOTIFY_ME_REGISTERED", base))).toBe("hiring");
    expect(kindOf(domainEvent("PURCHASE_BLOCKED", { ...base, code: "SESSION_FULL" }))).toBe("sold_out");
    expect(kindOf(domainEvent("PURCHASE_BLOCKED", { ...base, code: "INSUFFICIENT_CAPACITY" }))).toBe("sold_out");
    expect(kindOf(domainEvent("WAITLIST_JOINED", base))).toBe("sold_out");
    expect(kindOf(domainEvent("PURCHASE_BLOCKED", { ...base, code: "RESOURCE_UNAVAILABLE" }))).toBeNull();
    expect(kindOf(domainEvent("COURSE_VIEWED", base))).toBeNull();
  });
});

describe("validation and access", () => {
  it("refuses malformed dates and a start after the end with 400 and the path", async () => {
    for (const [query, path] of [
      ["?startDate=2021-02-30", "startDate"],
      ["?startDate=yesterday", "startDate"],
      ["?endDate=2021-13-01", "endDate"],
      ["?startDate=2021-03-02&endDate=2021-03-01", "endDate"],
      ["?startDate=2021-03-01T10:00:00Z&endDate=2021-03-01T09:59:59Z", "endDate"],
      [`?courseId=${"x".repeat(65)}`, "courseId"],
    ] as const) {
      const response = await analytics(query);
      expect(response.status, query).toBe(400);
      expect(response.json.error.code).toBe("VALIDATION_FAILED");
      expect(response.json.error.details.issues.map((issue: { path: string }) => issue.path)).toContain(path);
    }
  });

  it("is for staff and admins only", async () => {
    expect((await call("GET", "/api/v1/admin/demand/analytics")).status).toBe(401);
    expect((await analytics("", await tokenFor("customer"))).status).toBe(403);
    expect((await analytics("", await tokenFor("admin"))).status).toBe(200);
  });
});

describe("query plan", () => {
  it("every view reads only a covering composite index, seeking the course and the date range when there are", async () => {
    const dialect = new SQLiteSyncDialect();
    const filters = [{}, { from: 1, to: 2 }, { courseId: "cls_x", from: 1 }, { cityId: "cty_y", to: 2 }, { courseId: "cls_x", cityId: "cty_y" }, { courseId: "cls_x" }];
    for (const filter of filters) {
      for (const [name, query] of Object.entries(analyticsQueries(filter))) {
        const { sql, params } = dialect.sqlToQuery(query);
        const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .bind(...params)
          .all<{ detail: string }>();
        const access = results.map((row) => row.detail).find((detail) => /demand_signals/.test(detail));
        const where = `${name} ${JSON.stringify(filter)}: ${access}`;
        if ("courseId" in filter) {
          // A course, with or without dates, is a seek: never a scan of every course's signals.
          expect(access, where).toMatch(/^SEARCH .*USING COVERING INDEX demand_signals_course_analytics_idx \(course_id=\?/);
          if ("from" in filter) expect(access, where).toMatch(/course_id=\? AND created_at>/);
        } else {
          expect(access, where).toMatch(/USING COVERING INDEX demand_signals_analytics_idx/);
          if ("from" in filter || "to" in filter) expect(access, where).toMatch(/^SEARCH .*\(created_at[<>]/);
        }
      }
    }
  });
});
