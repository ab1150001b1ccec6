/**
 * Notification providers: what actually delivers a rendered message. The consumer talks only to
 * this interface, chosen by the `NOTIFICATION_PROVIDER` setting (`config.notificationProvider`,
 * src/config.ts lists the names), so an email or SMS service slots in without touching the queue
 * logic: the dev mailbox locally (src/services/providers/dev-mailbox.ts), Resend in production
 * (src/services/providers/resend.ts), or none.
 */
import { type Config, NOTIFICATION_PROVIDERS } from "../config";
import type { Db } from "../db/client";
import type { NotificationKind } from "./notifications";
import { DevMailboxProvider } from "./providers/dev-mailbox";
import { ResendProvider } from "./providers/resend";

/** A rendered message, ready to go. `text` is the full body, link tokens included; `html` the same content as HTML. */
export interface OutgoingMessage {
  /** The notification request's id: a provider that accepts an idempotency key should be given it. */
  id: string;
  kind: NotificationKind;
  channel: "email" | "sms";
  to: { email: string; name: string | null };
  subject: string;
  text: string;
  html?: string;
}

export interface NotificationProvider {
  /** Recorded on each communication, e.g. "dev-mailbox". */
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
  /**
   * Optional: delivers many messages in one call, all or nothing (the consumer's batch). Throws
   * when none was delivered; the consumer then sends them one by one with `send`.
   */
  sendMany?(messages: OutgoingMessage[]): Promise<Map<string, { providerMessageId: string }>>;
}

/** The provider refuses this message for good; it is dead-lettered at once instead of retried. */
export class PermanentDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PermanentDeliveryError";
  }
}

export { NOTIFICATION_PROVIDERS };

/**
 * The provider `config.notificationProvider` names, or null for "none": then nothing is sent and
 * nothing pretends to be (the consumer keeps the message pending and raises an alert). The config
 * refuses the dev mailbox outside development and Resend without its key and From address.
 */
export function providerFor(config: Pick<Config, "notificationProvider" | "resend">, db: Db): NotificationProvider | null {
  switch (config.notificationProvider) {
    case "dev-mailbox":
      return new DevMailboxProvider(db);
    case "resend":
      return new ResendProvider({ apiKey: config.resend.apiKey!, from: config.resend.from! });
    case "none":
      return null;
  }
}
