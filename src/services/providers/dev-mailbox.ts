/**
 * The dev mailbox (NOTIFICATION_PROVIDER dev-mailbox, ENVIRONMENT=development only): delivers a
 * message by storing it, links and all, in D1's dev_mailbox, where a newcomer reads it at
 * /dev/mailbox and clicks its links. A real delivery to a real (local) inbox, not a pretence: the
 * message and the mark that it was sent are one D1 batch, so there is no window between them.
 */
import { desc, eq, sql } from "drizzle-orm";
import { chunkByParameters, presentValues } from "../../db/chunks";
import type { Db } from "../../db/client";
import { bookingCommunications, devMailbox } from "../../db/schema";
import { chunkIds, markSentStatement } from "../communications";
import type { NotificationProvider, OutgoingMessage } from "../notification-providers";

export class DevMailboxProvider implements NotificationProvider {
  readonly name = "dev-mailbox";
  readonly recordsDelivery = true;

  constructor(private readonly db: Db) {}

  async send(message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    return (await this.sendMany([message])).get(message.id)!;
  }

  /** Delivers in one D1 batch: the copies, then every mark, as multi-row statements. */
  async sendMany(messages: OutgoingMessage[]): Promise<Map<string, { providerMessageId: string }>> {
    const now = new Date();
    const copies = messages.map((message) =>
      presentValues({ id: `dmb_${crypto.randomUUID().replaceAll("-", "")}`, communicationId: message.id, toEmail: message.to.email, subject: message.subject, text: message.text, html: message.html ?? null, createdAt: now }),
    );
    const inserts = chunkByParameters(copies).map((chunk) =>
      this.db.insert(devMailbox).values(chunk as (typeof devMailbox.$inferInsert)[]).onConflictDoNothing({ target: devMailbox.communicationId }),
    );
    const marks = chunkIds(messages.map((message) => message.id)).map((ids) =>
      markSentStatement(this.db, ids, {
        provider: this.name,
        providerMessageId: sql`(SELECT id FROM dev_mailbox WHERE communication_id = ${bookingCommunications.id})`,
        now,
      }).returning({ id: bookingCommunications.id, providerMessageId: bookingCommunications.providerMessageId }),
    );
    const [first, ...rest] = [...inserts, ...marks];
    const results = (await this.db.batch([first!, ...rest])) as unknown[];
    const sent = new Map<string, { providerMessageId: string }>();
    for (const result of results.slice(inserts.length) as { id: string; providerMessageId: string | null }[][]) {
      for (const row of result) sent.set(row.id, { providerMessageId: row.providerMessageId ?? "unknown" });
    }
    // Marked before (a retry after the mark went through): delivered, the first copy stands.
    for (const message of messages) if (!sent.has(message.id)) sent.set(message.id, { providerMessageId: "unknown" });
    return sent;
  }
}

/** The dev mailbox's messages to an address (or all), newest first. */
export async function mailboxMessages(db: Db, to: string | undefined, limit: number) {
  const query = db
    .select({ id: devMailbox.id, to: devMailbox.toEmail, subject: devMailbox.subject, text: devMailbox.text, html: devMailbox.html, createdAt: devMailbox.createdAt })
    .from(devMailbox);
  const rows = await (to ? query.where(eq(devMailbox.toEmail, to.toLowerCase())) : query).orderBy(desc(devMailbox.createdAt), desc(devMailbox.id)).limit(limit);
  return rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }));
}
