/**
 * Worker entry: the table of contents. HTTP goes to the Hono app; later layers add queue and
 * scheduled handlers and the session Durable Object here.
 */
import { createApp } from "./app";
import type { Env } from "./env";

export { SessionDO } from "./durable-objects/session";

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
