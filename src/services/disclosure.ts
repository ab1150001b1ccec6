/**
 * What a refusal may tell whom. An email alone proves nothing about who is asking, so to anyone
 * but staff and the signed-in owner of that email a duplicate is refused without ids or details:
 * "there is already something under this email here", never which booking, hold or entry.
 */
import type { Principal } from "../env";
import { ApiError } from "../errors";

/** True for staff and admins, and for a customer signed in as the owner of `email`. */
export function mayKnowAbout(principal: Principal | undefined, email: string): boolean {
  if (principal?.role === "staff" || principal?.role === "admin") return true;
  return principal?.role === "customer" && principal.email !== undefined && principal.email.toLowerCase() === email.toLowerCase();
}

/** The error as `principal` may see it: a duplicate, or a hold used by another booking, without its ids. */
export function concealFromStrangers(error: unknown, principal: Principal | undefined, email: string): unknown {
  if (!(error instanceof ApiError) || mayKnowAbout(principal, email)) return error;
  if (error.code === "DUPLICATE_BOOKING") {
    return withHeaders(new ApiError("DUPLICATE_BOOKING", "This email already has a booking or a hold for this session", {}), error);
  }
  if (error.code === "HOLD_EXPIRED" && error.details && "existingBookingId" in error.details) {
    const { existingBookingId: _hidden, ...rest } = error.details as Record<string, unknown>;
    return withHeaders(new ApiError("HOLD_EXPIRED", error.message, rest), error);
  }
  return error;
}

function withHeaders(concealed: ApiError, original: ApiError): ApiError {
  Object.assign(concealed.headers, original.headers);
  return concealed;
}

