/** Message delivery: the dev mailbox, addresses that cannot be delivered to, and webhook deliveries seen. (Conventions: src/db/schema.ts.) */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { createdAt } from "./columns";

/**
 * The dev mailbox (NOTIFICATION_PROVIDER dev-mailbox, development only): every message as it was
 * sent, links and all, readable at GET /api/v1/dev/mailbox and /dev/mailbox.
 */
export const devMailbox = sqliteTable(
  "dev_mailbox",
  {
    id: text("id").primaryKey(),
    /** The notification request (booking_communications.id): a message is delivered here once. */
    communicationId: text("communication_id").notNull().unique(),
    toEmail: text("to_email").notNull(),
    subject: text("subject").notNull(),
    text: text("text").notNull(),
    html: text("html"),
    createdAt: createdAt(),
  },
  (t) => [index("dev_mailbox_to_idx").on(t.toEmail, t.createdAt)],
);

/** Addresses a provider reported as undeliverable (a hard bounce, a spam complaint): nothing more is sent to them. */
export const undeliverableAddresses = sqliteTable("undeliverable_addresses", {
  email: text("email").primaryKey(),
  reason: text("reason").notNull(),
  provider: text("provider").notNull(),
  createdAt: createdAt(),
});

/** Webhook deliveries already processed, by provider and webhook id: a redelivery changes nothing. */
export const webhookReceipts = sqliteTable(
  "webhook_receipts",
  {
    provider: text("provider").notNull(),
    webhookId: text("webhook_id").notNull(),
    type: text("type").notNull(),
    receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.webhookId] })],
);
