/**
 * What a refusal may tell whom. An email alone proves nothing about who is asking, so to anyone
 * but staff and the signed-in owner of that email a duplicate is refused without ids or details:
 * "there is already something under this email here", never which booking, hold or entry.
 */
import type { Principal } from "../env";
import { ApiError } from "../errors";

/** Staff and admins: they see everything and are held to no customer limit. */
export const isStaff = (principal: Principal | undefined) => principal?.role === "staff" || principal?.role === "admin";

/** True for staff and admins, and for a customer signed in as the owner of `email`. */
export function mayKnowAbout(principal: Principal | undefined, email: string): boolean {
  if (isStaff(principal)) return true;
  return principal?.role === "customer" && principal.email !== undefined && principal.email.toLowerCase() === email.toLowerCase();
}

/** What a stranger hears of any duplicate (booking, hold or waitlist place): that there is one, nothing else. */
export function duplicateForStrangers(): ApiError {
  return new ApiError("DUPLICATE_BOOKING", "This email already has a booking, a hold or a waitlist place for this session", {});
}

/** What the email's limits may tell a stranger: the limit, never how much of it the email has used. */
const USAGE_DETAILS = ["alreadyHeld", "alreadyTaken"];

/**
 * The error as `principal` may see it: a duplicate, or a hold used by another booking, without its
 * ids; an email's limit without what the email has taken.
 */
export function concealFromStrangers(error: unknown, principal: Principal | undefined, email: string): unknown {
  if (!(error instanceof ApiError) || mayKnowAbout(principal, email)) return error;
  if (error.code === "DUPLICATE_BOOKING") return withHeaders(duplicateForStrangers(), error);
  const scope = error.details?.scope;
  if ((error.code === "SEAT_LIMIT_EXCEEDED" || error.code === "WAITLIST_LIMIT_EXCEEDED") && (scope === "email" || scope === "email_window")) {
    const details = Object.fromEntries(Object.entries(error.details ?? {}).filter(([name]) => !USAGE_DETAILS.includes(name)));
    return withHeaders(new ApiError(error.code, error.message, details), error);
  }
  if (error.code === "HOLD_EXPIRED" && error.details && "existingBookingId" in error.details) {
    const { existingBookingId: _hidden, ...rest } = error.details as Record<string, unknown>;
    return withHeaders(new ApiError("HOLD_EXPIRED", error.message, rest), error);
  }
  return error;
}

/** Runs a flow for `email`, its errors as `principal` may see them. */
export async function concealingFromStrangers<T>(principal: Principal | undefined, email: string, flow: () => Promise<T>): Promise<T> {
  try {
    return await flow();
  } catch (error) {
    throw concealFromStrangers(error, principal, email);
  }
}

function withHeaders(concealed: ApiError, original: ApiError): ApiError {
  Object.assign(concealed.headers, original.headers);
  return concealed;
}

