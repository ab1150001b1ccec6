/** Demand analytics for staff and admins: what customers wanted, per course and city, and where demand went unmet. */
import { createRoute, z } from "@hono/zod-openapi";
import { getDb } from "../../db/client";
import { createRouter, errorResponses, jsonResponse } from "../../lib/openapi";
import { demandAnalytics, TOP_COURSES } from "../../services/demand-analytics";
import { staffOrAdmin } from "./access";

const Id = z.string().trim().min(1).max(64);
const DAY_MS = 86_400_000;

const DateOrInstant = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })])
  .openapi({ description: "A UTC day (YYYY-MM-DD, the whole day) or an ISO 8601 instant", example: "2026-03-01" });

const isDay = (value: string) => /^\d{4}-\d{2}-\d{2}$/.test(value);
/** A start day starts at its UTC midnight; an instant is itself. Inclusive. */
const rangeStart = (value: string) => Date.parse(isDay(value) ? `${value}T00:00:00Z` : value);
/** An end day includes the whole UTC day; an end instant includes itself. Exclusive bound. */
const rangeEnd = (value: string) => (isDay(value) ? Date.parse(`${value}T00:00:00Z`) + DAY_MS : Date.parse(value) + 1);

const AnalyticsQuery = z
  .object({
    courseId: Id.optional(),
    cityId: Id.optional(),
    startDate: DateOrInstant.optional(),
    endDate: DateOrInstant.optional(),
  })
  .superRefine((query, ctx) => {
    if (query.startDate && query.endDate && rangeStart(query.startDate) >= rangeEnd(query.endDate)) {
      ctx.addIssue({ code: "custom", path: ["endDate"], message: "endDate must not be before startDate" });
    }
  });

const Counts = {
  courseId: z.string(),
  courseName: z.string().nullable().openapi({ description: "Null when the course no longer exists" }),
  total: z.number().int(),
  blocked: z.number().int().openapi({ description: "PURCHASE_BLOCKED signals" }),
  waitlist: z.number().int().openapi({ description: "WAITLIST signals (session waitlist and course notify-me)" }),
  views: z.number().int().openapi({ description: "COURSE_VIEW signals" }),
  checkouts: z.number().int().openapi({ description: "CHECKOUT_STARTED signals" }),
  blockedNoTrainer: z.number().int().openapi({ description: "PURCHASE_BLOCKED for NO_TRAINER (no qualified instructor)" }),
  notifyMe: z.number().int().openapi({ description: "WAITLIST for a course not yet sold for lack of a trainer (notify-me registrations)" }),
  blockedSoldOut: z.number().int().openapi({ description: "PURCHASE_BLOCKED for seats (SESSION_FULL, INSUFFICIENT_CAPACITY)" }),
  sessionWaitlist: z.number().int().openapi({ description: "WAITLIST on a full session" }),
  hiringDemand: z.number().int().openapi({ description: "blockedNoTrainer + notifyMe: demand a new trainer would meet" }),
  soldOutDemand: z.number().int().openapi({ description: "blockedSoldOut + sessionWaitlist: demand another session would meet; never part of hiringDemand" }),
};

const DemandAnalytics = z
  .object({
    range: z.object({
      from: z.string().nullable().openapi({ description: "Inclusive UTC instant; null: from the first signal" }),
      to: z.string().nullable().openapi({ description: "Exclusive UTC instant; null: up to now" }),
    }),
    filters: z.object({ courseId: z.string().nullable(), cityId: z.string().nullable() }),
    byCourse: z.array(z.object(Counts)),
    byCityAndCourse: z.array(z.object({ cityId: z.string().nullable(), cityName: z.string().nullable(), ...Counts })),
    topCourses: z
      .array(
        z.object({
          ...Counts,
          unmetDemand: z.number().int().openapi({ description: "The hiring demand (= hiringDemand): no-trainer refusals + notify-me registrations" }),
          recommendation: z.literal("HIRE_TRAINER"),
        }),
      )
      .openapi({ description: `The hiring view: up to ${TOP_COURSES} courses by unmet hiring demand, most first; ties by courseId. Sold-out demand is not counted here` }),
    soldOutCourses: z
      .array(z.object({ ...Counts, recommendation: z.literal("ADD_SESSION") }))
      .openapi({ description: `Up to ${TOP_COURSES} courses by sold-out demand (soldOutDemand), most first; ties by courseId: a signal to add a session, not to hire` }),
  })
  .openapi("DemandAnalytics");

export const demandAnalyticsRoutes = createRouter().openapi(
  createRoute({
    method: "get",
    path: "/analytics",
    tags: ["Admin: demand"],
    summary: "Demand signals per course, per city and course, the top courses by unmet hiring demand, and sold-out demand beside it",
    description:
      "Counts COURSE_VIEW, CHECKOUT_STARTED, PURCHASE_BLOCKED and WAITLIST signals recorded in the range (UTC). " +
      "Unmet demand is split by reason: hiring demand (refused NO_TRAINER, notify-me registrations; recommendation HIRE_TRAINER) " +
      "and sold-out demand (refused for seats, session waitlists; recommendation ADD_SESSION), never added together. " +
      "Without courseId or cityId, every course and city.",
    ...staffOrAdmin,
    request: { query: AnalyticsQuery },
    responses: { 200: jsonResponse(DemandAnalytics, "The aggregations"), ...errorResponses(400, 401, 403) },
  }),
  async (c) => {
    const { courseId, cityId, startDate, endDate } = c.req.valid("query");
    const from = startDate ? rangeStart(startDate) : undefined;
    const to = endDate ? rangeEnd(endDate) : undefined;
    const result = await demandAnalytics(getDb(c.env.DB), { courseId, cityId, from, to });
    return c.json(
      {
        range: { from: from !== undefined ? new Date(from).toISOString() : null, to: to !== undefined ? new Date(to).toISOString() : null },
        filters: { courseId: courseId ?? null, cityId: cityId ?? null },
        ...result,
      },
      200,
    );
  },
);
