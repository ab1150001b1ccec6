/**
 * Building blocks for routes: a router factory that turns validation failures into the one error
 * shape, and schema helpers so every route documents its body, its errors and its auth the same way.
 */
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { ZodError, ZodType } from "zod";
import type { AppEnv } from "../env";
import { ApiError, ERROR_CODES } from "../errors";

/** Field-level description of a zod failure: `contact.email: Invalid email`. */
export function validationError(error: ZodError, where: string): ApiError {
  const issues = error.issues.map((issue) => ({
    path: issue.path.map(String).join("."),
    message: issue.message,
    code: issue.code,
  }));
  const first = issues[0];
  const summary = first ? `${first.path || where}: ${first.message}` : "Invalid input";
  return new ApiError("VALIDATION_FAILED", `Invalid ${where}. ${summary}`, { location: where, issues });
}

/** A Hono sub-app whose validation failures become 400 VALIDATION_FAILED with field paths. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target);
    },
  });
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES).openapi({ description: "Stable machine-readable code" }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
      requestId: z.string().optional(),
    }),
  })
  .openapi("Error");

const errorDescriptions = {
  400: "Invalid input (VALIDATION_FAILED with field paths, INVALID_JSON, SIGN_IN_LINK_INVALID, WEBHOOK_URL_REFUSED)",
  401: "Missing or invalid bearer token, or its session ended (UNAUTHENTICATED, INVALID_TOKEN, SESSION_ENDED)",
  403: "The caller's role may not use this route (FORBIDDEN), or a cookie-authenticated write came from another site (CSRF_REFUSED)",
  404: "An id in the path does not exist (NOT_FOUND, SESSION_NOT_FOUND, WAITLIST_ENTRY_NOT_FOUND)",
  409: "Conflicts with the current state (ALREADY_EXISTS, IN_USE, LAST_ADMIN, NOTHING_TO_SEND, STAFF_DOUBLE_BOOKED, SESSION_FULL, INSUFFICIENT_CAPACITY, RESOURCE_UNAVAILABLE, SESSION_NOT_BOOKABLE, NO_TRAINER, DUPLICATE_BOOKING, HOLD_EXPIRED, SEAT_LIMIT_EXCEEDED, IDEMPOTENCY_IN_PROGRESS, WAITLIST_NOT_NEEDED, WAITLIST_LIMIT_EXCEEDED, OFFER_NOT_AVAILABLE, PARTICIPANTS_LOCKED, ATTENDANCE_NOT_OPEN, WEBHOOK_ENDPOINT_DISABLED)",
  410: "A one-time link that was used or has expired (SIGN_IN_LINK_USED, SIGN_IN_LINK_EXPIRED)",
  413: "Body larger than allowed (PAYLOAD_TOO_LARGE)",
  422: "Well-formed but breaks a business rule (STAFF_NOT_QUALIFIED, INVALID_REFERENCE, INVALID_SCHEDULE, OCCURRENCE_LIMIT_EXCEEDED, BOOKING_KIND_NOT_ALLOWED, AMOUNT_MISMATCH, INVALID_AMOUNT, CURRENCY_NOT_SUPPORTED, PROMO_INVALID, IDEMPOTENCY_KEY_REUSED)",
  429: "Too many attempts from this client or email in the time window (RATE_LIMITED)",
  503: "A dependency is unavailable; safe to retry with the same Idempotency-Key (SERVICE_UNAVAILABLE, EXPORT_UNAVAILABLE)",
} as const;

type ErrorStatus = keyof typeof errorDescriptions;

/** OpenAPI entries for the error statuses a route can answer with. */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      { description: errorDescriptions[status], content: { "application/json": { schema: ErrorSchema } } },
    ]),
  ) as unknown as Record<S, { description: string; content: { "application/json": { schema: typeof ErrorSchema } } }>;
}

/** A required JSON request body (required, so a wrong or missing content type is refused, not skipped). */
export function jsonBody<T extends ZodType>(schema: T, description = "JSON body") {
  return { required: true, description, content: { "application/json": { schema } } };
}

/** A JSON success response. */
export function jsonResponse<T extends ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** Security requirement for routes that need a bearer token. */
export const bearerAuth = [{ bearerAuth: [] }];

export const IdParam = (name: string, example: string) =>
  z.object({ id: z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" }, example, description: `${name} id` }) });

/** `{ data, nextCursor }`: one page of a list; pass nextCursor back as `cursor` for the next page. */
export function page<T extends ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable() });
}

export const PaginationQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: "Page size, 1–100" }),
  cursor: z.string().max(512).optional().openapi({ description: "nextCursor from the previous page" }),
});
