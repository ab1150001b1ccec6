/**
 * The certificates job (hourly, src/jobs/scheduled.ts): issues certificates for completed bookings
 * (and announces again any whose event was lost), sends renewal reminders, holds renewal seats and
 * marks lapsed renewal offers expired. Each step is bounded per run and safe to run twice or at
 * once with itself (unique indexes, conditional updates, deterministic message ids).
 */
import type { Db } from "../db/client";
import type { Env } from "../env";
import { announceMissing, issueDueCertificates } from "../services/certificate-issuing";
import { expireRenewalOffers, makeRenewalOffers, sendRenewalReminders } from "../services/renewal-offers";

export interface CertificateRunResult {
  issued: number;
  announcedAgain: number;
  reminders: number;
  offers: number;
  offersExpired: number;
}

export async function runCertificateJobs(env: Env, db: Db, now: Date): Promise<CertificateRunResult> {
  // Expired offers first: a certificate's seat held elsewhere is let go before new holds are taken.
  const offersExpired = await expireRenewalOffers(env, db, now);
  const issued = (await issueDueCertificates(env, db, now)).length;
  const announcedAgain = await announceMissing(env, db, now);
  const reminders = await sendRenewalReminders(env, db, now);
  const offers = await makeRenewalOffers(env, db, now);
  return { issued, announcedAgain, reminders, offers, offersExpired };
}
