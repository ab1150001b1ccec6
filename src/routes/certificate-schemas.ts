/** The certificate as the API shows it to staff and to its holder. */
import { z } from "@hono/zod-openapi";

export const CertificateSchema = z
  .object({
    id: z.string(),
    number: z.string().openapi({ example: "CERT-2026-0000123" }),
    customerId: z.string(),
    holderName: z.string(),
    classId: z.string(),
    className: z.string(),
    timeZone: z.string().openapi({ description: "The studio's IANA time zone" }),
    bookingId: z.string(),
    attendeeId: z.string(),
    status: z.enum(["valid", "revoked"]).openapi({ description: "As stored: revoked by an admin, else valid" }),
    validity: z.enum(["valid", "expiring", "expired", "revoked"]).openapi({ description: "Now: expiring within RENEWAL_REMINDER_DAYS of its expiry" }),
    issuedAt: z.iso.datetime(),
    expiresAt: z.iso.datetime().nullable().openapi({ description: "Null: never expires" }),
    renewalReminderSentAt: z.iso.datetime().nullable(),
    verificationPath: z.string().openapi({ description: "The public verification page (shows only the number and validity)" }),
  })
  .openapi("Certificate");
