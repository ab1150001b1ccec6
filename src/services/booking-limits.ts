/**
 * What one party may take, so nobody takes a session hostage (README "Nobody takes a session
 * hostage"). Staff and admins are exempt from all of it.
 *
 * - Attempts per minute (Cloudflare's rate limiter): per client address first, before anything is
 *   read; per email only once the request has passed validation and named a real session, so junk
 *   naming someone's address cannot use up their allowance. A signed-in customer booking for
 *   themselves draws on their own account's allowance, which anonymous attempts never touch.
 * - Seats per session: a share of its capacity per email and per client address (the session's
 *   object checks it in its transaction, `seatLimits`).
 * - Seats across sessions in a sliding window, per client address and per email (SeatQuotaDO):
 *   a hold or booking of several sessions is charged per session.
 * Emails count with their sub-addresses (`ann+1@…` is `ann@…`, src/domain/email-identity.ts).
 */
import { configOf } from "../config";
import { limitIdentityOf } from "../domain/email-identity";
import type { Env, Principal } from "../env";
import { ApiError } from "../errors";
import { isStaff, mayKnowAbout } from "./disclosure";
import { seatQuotaShardOf } from "../durable-objects/seat-quota-contract";
import type { SeatRequest } from "./seat-coordinator";

/** The request's side of the limits: who asks, and from which address. */
export interface LimitedCaller {
  env: Env;
  principal: Principal | undefined;
  clientKey: string;
}


/** Whose per-email allowance an attempt for `email` draws on: a signed-in owner's own, or the address's (staff have none). */
function emailAllowance(caller: LimitedCaller, email: string): string {
  const principal = caller.principal;
  return principal?.role === "customer" && mayKnowAbout(principal, email) ? `customer:${principal.subject}` : `email:${limitIdentityOf(email)}`;
}

function rateLimited(scope: "client" | "email"): ApiError {
  const error = new ApiError("RATE_LIMITED", "Too many booking attempts; try again in a minute", { scope, retryAfterSeconds: 60 });
  error.headers["Retry-After"] = "60";
  return error;
}

/** Attempts per client address per minute: the first check of every hold, booking and waitlist join. */
export async function limitClientAttempts(caller: LimitedCaller): Promise<void> {
  if (isStaff(caller.principal)) return;
  const { success } = await caller.env.BOOKING_RATE_LIMITER.limit({ key: `client:${caller.clientKey}` });
  if (!success) throw rateLimited("client");
}

/** Attempts per email per minute; call once the request is valid and names a real session. */
export async function limitEmailAttempts(caller: LimitedCaller, email: string): Promise<void> {
  if (isStaff(caller.principal)) return;
  const { success } = await caller.env.BOOKING_RATE_LIMITER.limit({ key: emailAllowance(caller, email) });
  if (!success) throw rateLimited("email");
}

/** Per-session caps on the seats one email or one client address may hold or book. */
export function seatLimits(env: Env): SeatRequest["limits"] {
  const config = configOf(env);
  return { perEmail: config.maxSeatsPerEmailPerSession, perClient: config.maxSeatsPerClientPerSession, sharePercent: config.seatSharePerSessionPercent };
}

/** A charge against the windows, to give back when the request took nothing after all. */
export interface WindowCharge {
  refund(): Promise<void>;
}

const NOTHING_CHARGED: WindowCharge = { refund: async () => undefined };

/**
 * Charges `seats` × `sessions` to the client address's and the email's windows, or throws 409
 * SEAT_LIMIT_EXCEEDED (scope `client_window` or `email_window`, with Retry-After) and charges
 * neither. `chargeId` names the request, so its retry is charged once.
 */
export async function chargeSeatWindows(caller: LimitedCaller, email: string, chargeId: string, seats: number, sessions: number): Promise<WindowCharge> {
  const config = configOf(caller.env);
  const limits: [number, number] = [config.maxSeatsPerClientPerWindow, config.maxSeatsPerEmailPerWindow];
  return chargeWindows(caller, email, { chargeId, kind: "seats", amount: seats * sessions, limits }, "SEAT_LIMIT_EXCEEDED", (who, limit, minutes) =>
    `${who} may hold or book at most ${limit} seat(s) across sessions in ${minutes} minutes`,
  );
}

/** Charges one waitlist join to the client address's and the email's windows, or throws 409 WAITLIST_LIMIT_EXCEEDED. */
export async function chargeWaitlistWindows(caller: LimitedCaller, email: string, chargeId: string): Promise<WindowCharge> {
  const limit = configOf(caller.env).maxWaitlistJoinsPerWindow;
  return chargeWindows(caller, email, { chargeId, kind: "waitlist", amount: 1, limits: [limit, limit] }, "WAITLIST_LIMIT_EXCEEDED", (who, most, minutes) =>
    `${who} may join at most ${most} waitlist(s) in ${minutes} minutes`,
  );
}

async function chargeWindows(
  caller: LimitedCaller,
  email: string,
  charge: { chargeId: string; kind: "seats" | "waitlist"; amount: number; limits: [client: number, email: number] },
  code: "SEAT_LIMIT_EXCEEDED" | "WAITLIST_LIMIT_EXCEEDED",
  message: (who: string, limit: number, minutes: number) => string,
): Promise<WindowCharge> {
  if (isStaff(caller.principal)) return NOTHING_CHARGED;
  const windowMs = configOf(caller.env).seatWindowMs;
  const windows = [
    { scope: "client_window", name: `client:${caller.clientKey}`, limit: charge.limits[0] },
    { scope: "email_window", name: emailAllowance(caller, email), limit: charge.limits[1] },
  ] as const;
  const objects = windows.map((window) => caller.env.SEAT_QUOTA.getByName(seatQuotaShardOf(window.name)));
  const settled = await Promise.allSettled(
    objects.map((object, index) =>
      object.charge({ subject: windows[index]!.name, chargeId: charge.chargeId, kind: charge.kind, amount: charge.amount, limit: windows[index]!.limit, windowMs }),
    ),
  );
  // Only what this request charged afresh is its to give back: a retry's refund must not free the
  // first request's charge.
  const fresh = settled.map((result) => result.status === "fulfilled" && result.value.ok && !result.value.repeated);
  const refund = async () => {
    await Promise.all(windows.map((window, index) => (fresh[index] ? objects[index]!.refund(window.name, charge.chargeId) : undefined)));
  };
  const failed = settled.find((result) => result.status === "rejected");
  const answers = settled.map((result) => (result.status === "fulfilled" ? result.value : null));
  const refused = answers.findIndex((answer) => answer !== null && !answer.ok);
  if (!failed && refused === -1) return { refund };
  await refund();
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const answer = answers[refused] as Extract<(typeof answers)[number], { ok: false }>;
  const scope = windows[refused]!.scope;
  const error = new ApiError(code, message(scope === "client_window" ? "This client" : "This email", answer.limit, Math.round(windowMs / 60_000)), {
    scope,
    limit: answer.limit,
    alreadyTaken: answer.used,
    requested: charge.amount,
    retryAfterSeconds: answer.retryAfterSeconds,
  });
  error.headers["Retry-After"] = String(answer.retryAfterSeconds);
  throw error;
}
