/**
 * The one way into the session and coordinator Durable Objects: the only code that calls
 * `env.SESSION` or `env.COORDINATOR`. It names objects, loads the catalog snapshot a session object
 * is configured from (session row and resource requirements in one D1 batch), and turns a refusal
 * the objects answer with into the API error the client sees.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { classResourceRequirements, classSessions, resources } from "../db/schema";
import type { ReduceSeatsInput, ReduceSeatsResult, SessionSnapshot } from "../durable-objects/session-contract";
import type { Env } from "../env";
import { ApiError, type ErrorCode } from "../errors";
import { sha256Hex } from "../lib/tokens";
import { sessionSnapshot } from "./booking-context";

/** The session's object (named by the session id). */
export function sessionObject(env: Pick<Env, "SESSION">, sessionId: string) {
  return env.SESSION.getByName(sessionId);
}

/** A booking attempt's coordinator (named by `coordinatorName`). */
export function coordinatorObject(env: Pick<Env, "COORDINATOR">, name: string) {
  return env.COORDINATOR.getByName(name);
}

/** A fresh coordinator name for an attempt without an Idempotency-Key. */
export function newCoordinatorName(): string {
  return `crd_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** The coordinator of a keyed attempt: the same for every repeat of the key by the same caller. */
export async function keyedCoordinatorName(scope: string, key: string): Promise<string> {
  return `crd_k${(await sha256Hex(`${scope}\n${key}`)).slice(0, 31)}`;
}

/** The object that keeps a booking's move ledger (src/durable-objects/move-ledger.ts): named for the booking. */
export async function moveLedgerOf(env: Pick<Env, "COORDINATOR">, bookingId: string) {
  return coordinatorObject(env, await moveLedgerName(bookingId));
}

export async function moveLedgerName(bookingId: string): Promise<string> {
  return `crd_m${(await sha256Hex(`moves\n${bookingId}`)).slice(0, 31)}`;
}

/**
 * A booking id says where its seats are, so it can be read and cancelled before D1 has it:
 * `bkg_<16 hex>-<session id>` for one session, `bkg_<16 hex>-<coordinator>` for several (at most
 * 64 characters with ids of 36).
 */
export function newBookingId(locator: string): string {
  return `bkg_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}-${locator}`;
}

/** The booking of an earlier hold, named by the hold (so every retry names the same booking), at `locator`. */
export async function bookingIdOfHold(holdId: string, locator: string): Promise<string> {
  return `bkg_${(await sha256Hex(`hold\n${holdId}`)).slice(0, 16)}-${locator}`;
}

/**
 * Where a booking id says its seats are, or null for ids of another form (older bookings, or made
 * up: only a session id or coordinator name of the shapes we issue is ever used to name an object).
 */
export function locateBooking(bookingId: string): { sessionId: string } | { coordinator: string } | null {
  const match = /^bkg_[0-9a-f]{16}-(ses_[A-Za-z0-9_]{1,40}|crd_k?[0-9a-f]{31,32})$/.exec(bookingId);
  if (!match) return null;
  const locator = match[1]!;
  return locator.startsWith("crd_") ? { coordinator: locator } : { sessionId: locator };
}

/** The snapshot a session's object is configured from, or undefined for a session D1 does not know. */
export async function loadSnapshot(db: Db, sessionId: string): Promise<SessionSnapshot | undefined> {
  const [sessions, requirements] = await db.batch([
    db.select().from(classSessions).where(eq(classSessions.id, sessionId)),
    db
      .select({ resourceId: resources.id, name: resources.name, quantity: resources.quantity, perStudent: classResourceRequirements.quantityPerStudent })
      .from(classResourceRequirements)
      .innerJoin(resources, eq(resources.id, classResourceRequirements.resourceId))
      .innerJoin(classSessions, eq(classSessions.classId, classResourceRequirements.classId))
      .where(eq(classSessions.id, sessionId)),
  ]);
  const session = sessions[0];
  return session ? sessionSnapshot(session, requirements) : undefined;
}

/** Shrinks a booking's confirmed line in one session (a group participant removed); see SessionDO.reduceSeats. */
export async function reduceSeatsIn(env: Pick<Env, "SESSION">, sessionId: string, input: ReduceSeatsInput): Promise<ReduceSeatsResult> {
  return (await sessionObject(env, sessionId).reduceSeats(input)) as ReduceSeatsResult;
}

/** A refusal an object answered with, as the API error (RPC result types do not narrow on `ok`). */
export function refusalError(result: object, extra: Record<string, unknown> = {}): ApiError {
  const { code, message, details } = result as { code: ErrorCode; message: string; details: Record<string, unknown> };
  return new ApiError(code, message, { ...extra, ...details });
}
