/**
 * "Notify me" for courses that cannot be bought yet (NO_TRAINER): register interest, and check
 * whether an email (or the signed-in customer) has registered.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getDb } from "../db/client";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { createRouter, errorResponses, jsonBody, jsonResponse, validationError } from "../lib/openapi";
import { interestOf, registerInterest } from "../services/course-interest";

const tags = ["Demand"];
const Id = z.string().min(1).max(64);
const Email = z.string().trim().email().max(254);

const RegisterBody = z
  .object({
    courseId: Id,
    cityId: Id.optional().openapi({ description: "Only sessions in this city; any city when omitted" }),
    email: Email.optional().openapi({ description: "Required unless a customer token is sent" }),
  })
  .openapi("NotifyMe");

const Registration = z
  .object({
    courseId: z.string(),
    cityId: z.string().nullable(),
    email: z.string(),
    registeredAt: z.string().nullable().openapi({ description: "Null unless the caller is the email's owner (customer token) or staff" }),
    notifiedAt: z.string().nullable(),
  })
  .openapi("NotifyMeRegistration");

const Registered = z.object({ registered: z.literal(true), created: z.boolean(), registration: Registration });

const CheckQuery = z.object({ courseId: Id, email: Email.optional().openapi({ description: "Required unless a customer token is sent" }) });

/** The email asked about: the body's or query's, or the signed-in customer's (who may ask only about themselves). */
function emailOf(c: Context<AppEnv>, given: string | undefined, where: "body" | "query"): string {
  const principal = c.get("principal");
  if (principal?.role === "customer" && principal.email) {
    if (given && given.toLowerCase() !== principal.email) throw new ApiError("FORBIDDEN", "A customer token may only act for its own email");
    return principal.email;
  }
  if (!given) {
    const issue = { code: "custom" as const, path: ["email"], message: "required unless a customer token is sent", input: undefined };
    throw validationError(new z.ZodError([issue]), where);
  }
  return given;
}

/** The caller may see the email's registrations: its owner (customer token) or staff. */
function ownsEmail(c: Context<AppEnv>, email: string): boolean {
  const principal = c.get("principal");
  return principal?.role === "staff" || principal?.role === "admin" || (principal?.role === "customer" && principal.email === email.toLowerCase());
}

/** A registration as anyone who only knows the email may see it: no dates. */
function anonymous<T extends { registeredAt: string | null; notifiedAt: string | null }>(registration: T): T {
  return { ...registration, registeredAt: null, notifiedAt: null };
}

/** Registrations per client address per minute, so nobody can flood the list or analytics. */
async function limitRate(c: Context<AppEnv>): Promise<void> {
  const principal = c.get("principal");
  if (principal?.role === "staff" || principal?.role === "admin") return;
  const { success } = await c.env.BOOKING_RATE_LIMITER.limit({ key: `interest:${c.req.header("CF-Connecting-IP") ?? "unknown"}` });
  if (!success) throw new ApiError("RATE_LIMITED", "Too many requests; try again in a minute", { retryAfterSeconds: 60 });
}

export const notifyMeRoutes = createRouter()
  .openapi(
    createRoute({
      method: "post",
      path: "/",
      tags,
      summary: "Ask to be notified when a course that has no trainer yet can be booked (a WAITLIST demand signal)",
      description: "One registration per course, city and email: a repeat answers 200 with the existing one. Everyone registered is notified once.",
      request: { body: jsonBody(RegisterBody) },
      responses: {
        201: jsonResponse(Registered, "Registered"),
        200: jsonResponse(Registered, "Already registered"),
        ...errorResponses(400, 401, 403, 404, 422, 429),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const email = emailOf(c, body.email, "body");
      await limitRate(c);
      const result = await registerInterest(c.env, getDb(c.env.DB), { courseId: body.courseId, cityId: body.cityId ?? null, email }, (work) =>
        c.executionCtx.waitUntil(work),
      );
      const registration = result.created || ownsEmail(c, email) ? result.registration : anonymous(result.registration);
      return c.json({ registered: true as const, created: result.created, registration }, result.created ? 201 : 200);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/check",
      tags,
      summary: "Whether an email (or the signed-in customer) has asked to be notified about a course",
      description: "Anyone may ask whether an email is registered; the registrations themselves (cities, dates) go only to the email's owner or staff.",
      request: { query: CheckQuery },
      responses: {
        200: jsonResponse(z.object({ registered: z.boolean(), registrations: z.array(Registration) }), "The registrations, if any"),
        ...errorResponses(400, 401, 403, 429),
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const email = emailOf(c, query.email, "query");
      await limitRate(c);
      const registrations = await interestOf(getDb(c.env.DB), query.courseId, email);
      return c.json({ registered: registrations.length > 0, registrations: ownsEmail(c, email) ? registrations : [] }, 200);
    },
  );
