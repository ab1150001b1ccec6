/**
 * Certificates as staff, holders and the public see them: lists with their validity now, one
 * certificate, revocation, the compliance view (valid, expiring and expired per class) and the
 * public verification, which tells only the number and whether it is valid. Validity is derived
 * at read time from `expires_at` and `status` (src/domain/certificates.ts), never stored.
 */
import { and, asc, desc, eq, gt, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import { configOf } from "../config";
import type { Db } from "../db/client";
import { certificates, classes, customers, studios } from "../db/schema";
import { type CertificateValidity, expiryBounds, validityAt } from "../domain/certificates";
import type { Env, Principal } from "../env";
import { ApiError, notFound } from "../errors";
import { decodeCursor, toPage } from "../lib/pagination";
import { customerIdFor } from "./booking-context";
import { isStaff } from "./disclosure";
import { withdrawRenewalOffers } from "./renewal-offers";

type CertificateRow = typeof certificates.$inferSelect;

export interface CertificateView {
  id: string;
  number: string;
  customerId: string;
  holderName: string;
  classId: string;
  className: string;
  /** The studio's IANA zone, for showing the dates. */
  timeZone: string;
  bookingId: string;
  attendeeId: string;
  status: "valid" | "revoked";
  validity: CertificateValidity;
  issuedAt: string;
  expiresAt: string | null;
  renewalReminderSentAt: string | null;
  verificationPath: string;
}

function viewOf(row: CertificateRow & { className: string; timeZone: string }, now: number, reminderMs: number): CertificateView {
  return {
    id: row.id,
    number: row.number,
    customerId: row.customerId,
    holderName: row.holderName,
    classId: row.classId,
    className: row.className,
    timeZone: row.timeZone,
    bookingId: row.bookingId,
    attendeeId: row.attendeeId,
    status: row.status,
    validity: validityAt({ status: row.status, expiresAt: row.expiresAt?.getTime() ?? null }, now, reminderMs),
    issuedAt: row.issuedAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    renewalReminderSentAt: row.renewalReminderSentAt?.toISOString() ?? null,
    verificationPath: `/certificates/verify/${row.verificationCode}`,
  };
}

const columns = {
  id: certificates.id,
  number: certificates.number,
  verificationCode: certificates.verificationCode,
  customerId: certificates.customerId,
  holderName: certificates.holderName,
  classId: certificates.classId,
  bookingId: certificates.bookingId,
  attendeeId: certificates.attendeeId,
  status: certificates.status,
  issuedAt: certificates.issuedAt,
  expiresAt: certificates.expiresAt,
  renewalReminderSentAt: certificates.renewalReminderSentAt,
  createdAt: certificates.createdAt,
  className: classes.name,
  timeZone: studios.timeZone,
};

export interface CertificateFilter {
  classId?: string | undefined;
  customerId?: string | undefined;
  status?: "valid" | "expiring" | "expired" | undefined;
  limit: number;
  cursor?: string | undefined;
}

/** The SQL for a validity at `now` (revoked certificates are none of valid, expiring or expired). */
function validitySql(validity: "valid" | "expiring" | "expired", now: number, reminderMs: number): SQL {
  const bounds = expiryBounds(validity, now, reminderMs);
  const expiry = and(
    bounds.after === undefined ? undefined : gt(certificates.expiresAt, new Date(bounds.after)),
    bounds.before === undefined ? undefined : lt(certificates.expiresAt, new Date(bounds.before)),
  );
  return and(eq(certificates.status, "valid"), bounds.orNever ? or(isNull(certificates.expiresAt), expiry) : expiry)!;
}

/** A page of certificates, newest first, filtered by class, customer and validity now. */
export async function listCertificates(env: Env, db: Db, filter: CertificateFilter, now = Date.now()) {
  const { renewalReminderMs } = configOf(env);
  let after: SQL | undefined;
  if (filter.cursor) {
    const [issuedAt, id] = decodeCursor(filter.cursor, 2);
    if (typeof issuedAt !== "number" || typeof id !== "string") throw badCursor();
    after = sql`(${certificates.issuedAt}, ${certificates.id}) < (${issuedAt}, ${id})`;
  }
  const rows = await db
    .select(columns)
    .from(certificates)
    .innerJoin(classes, eq(classes.id, certificates.classId))
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .where(
      and(
        filter.classId ? eq(certificates.classId, filter.classId) : undefined,
        filter.customerId ? eq(certificates.customerId, filter.customerId) : undefined,
        filter.status ? validitySql(filter.status, now, renewalReminderMs) : undefined,
        after,
      ),
    )
    .orderBy(desc(certificates.issuedAt), desc(certificates.id))
    .limit(filter.limit + 1);
  const { data, nextCursor } = toPage(rows, filter.limit, (row) => [row.issuedAt.getTime(), row.id]);
  return { data: data.map((row) => viewOf(row, now, renewalReminderMs)), nextCursor };
}

function badCursor(): ApiError {
  return new ApiError("VALIDATION_FAILED", "Invalid query. cursor: not a cursor from this API", {
    location: "query",
    issues: [{ path: "cursor", message: "not a cursor from this API", code: "custom" }],
  });
}

async function certificateRow(db: Db, id: string) {
  const [row] = await db
    .select(columns)
    .from(certificates)
    .innerJoin(classes, eq(classes.id, certificates.classId))
    .innerJoin(studios, eq(studios.id, classes.studioId))
    .where(eq(certificates.id, id));
  return row;
}

export async function getCertificate(env: Env, db: Db, id: string, now = Date.now()): Promise<CertificateView> {
  const row = await certificateRow(db, id);
  if (!row) throw notFound("Certificate", id);
  return viewOf(row, now, configOf(env).renewalReminderMs);
}

/**
 * A certificate for its printable page: staff see any; a signed-in customer only their own (any
 * other id is "not found", so ids cannot be probed).
 */
export async function certificateFor(env: Env, db: Db, principal: Principal, id: string): Promise<CertificateView> {
  const certificate = await getCertificate(env, db, id).catch(() => null);
  const own = certificate !== null && principal.email !== undefined && certificate.customerId === (await customerIdOf(db, principal.email));
  if (!certificate || !(isStaff(principal) || own)) throw notFound("Certificate", id);
  return certificate;
}

/**
 * Revokes a certificate (idempotent): verification says `revoked` from now on, no reminder or offer
 * follows, and a seat held to renew it is let go.
 */
export async function revokeCertificate(env: Env, db: Db, id: string): Promise<CertificateView> {
  await db.update(certificates).set({ status: "revoked" }).where(eq(certificates.id, id));
  const revoked = await getCertificate(env, db, id);
  await withdrawRenewalOffers(env, db, id);
  return revoked;
}

/** The customer an email names: its profile, else the id a first booking would give it. */
export async function customerIdOf(db: Db, email: string): Promise<string> {
  const [row] = await db.select({ id: customers.id }).from(customers).where(eq(customers.email, email.trim().toLowerCase()));
  return row?.id ?? (await customerIdFor(email));
}

/** The signed-in person's certificates (by the customer their email names), newest first. */
export async function myCertificates(env: Env, db: Db, email: string, limit: number, cursor?: string) {
  return listCertificates(env, db, { customerId: await customerIdOf(db, email), limit, cursor });
}

export interface ComplianceRow {
  classId: string;
  className: string;
  valid: number;
  expiring: number;
  expired: number;
  revoked: number;
}

/** Per class with certificates: how many are valid, expiring (within RENEWAL_REMINDER_DAYS), expired and revoked now. */
export async function compliance(env: Env, db: Db, now = Date.now()): Promise<{ asOf: string; expiringWithinDays: number; data: ComplianceRow[] }> {
  const { renewalReminderMs } = configOf(env);
  const soon = now + renewalReminderMs;
  const data = await db
    .select({
      classId: certificates.classId,
      className: classes.name,
      valid: sql<number>`sum(CASE WHEN ${certificates.status} = 'valid' AND (${certificates.expiresAt} IS NULL OR ${certificates.expiresAt} > ${soon}) THEN 1 ELSE 0 END)`,
      expiring: sql<number>`sum(CASE WHEN ${certificates.status} = 'valid' AND ${certificates.expiresAt} > ${now} AND ${certificates.expiresAt} <= ${soon} THEN 1 ELSE 0 END)`,
      expired: sql<number>`sum(CASE WHEN ${certificates.status} = 'valid' AND ${certificates.expiresAt} <= ${now} THEN 1 ELSE 0 END)`,
      revoked: sql<number>`sum(CASE WHEN ${certificates.status} = 'revoked' THEN 1 ELSE 0 END)`,
    })
    .from(certificates)
    .innerJoin(classes, eq(classes.id, certificates.classId))
    .groupBy(certificates.classId)
    .orderBy(asc(classes.name), asc(certificates.classId));
  return { asOf: new Date(now).toISOString(), expiringWithinDays: Math.round(renewalReminderMs / 86_400_000), data };
}

export interface Verification {
  number: string;
  valid: boolean;
  status: "valid" | "expired" | "revoked";
  expiresAt: string | null;
}

/** What the public learns from a verification code: the number and its validity, nothing about the holder. */
export async function verifyCertificate(db: Db, code: string, now = Date.now()): Promise<Verification> {
  // Every code costs one indexed lookup, known or not; a malformed one looks the same from outside.
  const [row] = await db
    .select({ number: certificates.number, status: certificates.status, expiresAt: certificates.expiresAt })
    .from(certificates)
    .where(eq(certificates.verificationCode, code));
  if (!row) throw new ApiError("NOT_FOUND", "No certificate matches this verification code");
  const validity = validityAt({ status: row.status, expiresAt: row.expiresAt?.getTime() ?? null }, now, 0);
  const status = validity === "revoked" ? "revoked" : validity === "expired" ? "expired" : "valid";
  return { number: row.number, valid: status === "valid", status, expiresAt: row.expiresAt?.toISOString() ?? null };
}
