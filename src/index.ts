/**
 * Worker entry: the table of contents. HTTP goes to the Hono app, Cron Triggers and Queue batches to the jobs, and
 * each class session's seats to its SessionDO.
 */
import { createApp } from "./app";
import type { Env } from "./env";
import { runQueue } from "./jobs/queues";
import { runScheduled } from "./jobs/scheduled";

export { BookingCoordinatorDO } from "./durable-objects/coordinator";
export { SeatQuotaDO } from "./durable-objects/seat-quota";
export { PromoRedemptionsDO } from "./durable-objects/promo-redemptions";
export { SessionDO } from "./durable-objects/session";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled: (controller, env) => runScheduled(controller, env),
  queue: (batch, env) => runQueue(batch, env),
} satisfies ExportedHandler<Env>;
