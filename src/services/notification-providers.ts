/**
 * Notification providers: what actually delivers a rendered message. The consumer talks only to
 * this interface, chosen by the `NOTIFICATION_PROVIDER` setting (`config.notificationProvider`,
 * src/config.ts lists the names), so an email or SMS service slots
 * in without touching the queue logic. The default, "record", needs no internet: it records the
 * message as sent in `booking_communications`, which is what local use and tests read.
 */
import { NOTIFICATION_PROVIDERS, type NotificationProviderName } from "../config";
import type { Db } from "../db/client";
import { markSent } from "./communications";
import type { NotificationKind } from "./notifications";

/** A rendered message, ready to go. `text` is the full body, link tokens included. */
export interface OutgoingMessage {
  /** The notification request's id: a provider that accepts an idempotency key should be given it. */
  id: string;
  kind: NotificationKind;
  channel: "email" | "sms";
  to: { email: string; name: string | null };
  subject: string;
  text: string;
}

export interface NotificationProvider {
  /** Recorded on each communication, e.g. "record". */
  readonly name: string;
  /**
   * True when `send` itself marks the communication sent, in the same write as the delivery, so
   * there is no window between sending and recording (the consumer then skips its own mark).
   */
  readonly recordsDelivery: boolean;
  /**
   * Delivers one message. Throws on failure: a `PermanentDeliveryError` when retrying cannot help
   * (the address is refused), anything else is retried with backoff.
   */
  send(message: OutgoingMessage): Promise<{ providerMessageId: string }>;
}

/** The provider refuses this message for good; it is dead-lettered at once instead of retried. */
export class PermanentDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentDeliveryError";
  }
}

/** Delivers by recording: marks the communication sent in D1 and sends nothing anywhere. */
export class RecordingProvider implements NotificationProvider {
  readonly name = "record";
  readonly recordsDelivery = true;

  constructor(private readonly db: Db) {}

  async send(message: OutgoingMessage): Promise<{ providerMessageId: string }> {
    const providerMessageId = `rec_${crypto.randomUUID().replaceAll("-", "")}`;
    await markSent(this.db, message.id, { provider: this.name, providerMessageId, now: new Date() });
    return { providerMessageId };
  }
}

export { NOTIFICATION_PROVIDERS };

/**
 * The provider of this name (`config.notificationProvider`). The setting is checked when the
 * config is parsed, so an unknown name never gets this far; should one arrive anyway it throws:
 * sending nothing while pretending to is worse than failing the batch, which retries,
 * dead-letters and alerts.
 */
export function providerFor(name: NotificationProviderName, db: Db): NotificationProvider {
  switch (name) {
    case "record":
      return new RecordingProvider(db);
    default:
      throw new Error(`Unknown NOTIFICATION_PROVIDER "${String(name)}"; expected one of ${NOTIFICATION_PROVIDERS.join(", ")}`);
  }
}
