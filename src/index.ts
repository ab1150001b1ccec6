/**
 * Worker entry: the table of contents. HTTP goes to the Hono app, Cron Triggers to the jobs, and
 * each class session's seats to its SessionDO.
 */
import { createApp } from "./app";
import type { Env } from "./env";
import { runScheduled } from "./jobs/scheduled";

export { SessionDO } from "./durable-objects/session";

const app = createApp();

export default {
  fetch: app.fetch,
  scheduled: (controller, env) => runScheduled(controller, env),
} satisfies ExportedHandler<Env>;
