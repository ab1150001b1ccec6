/**
 * Outgoing webhook endpoints and their deliveries in D1: the admin's CRUD, the delivery log, test
 * sends and redeliveries, the fan-out of domain events to subscribers, and the sweep that puts
 * stuck deliveries back on the queue. Sending itself is src/jobs/webhook-deliveries.ts.
 *
 * A delivery row is the truth; a queue message only says "try this one now". So a lost message
 * loses nothing (the sweep finds the row), and a duplicate one sends nothing twice (the claim).
 */
import { and, desc, eq, inArray, lt, lte, or, sql } from "drizzle-orm";
import { configOf, type ConfigSource } from "../config";
import type { Db } from "../db/client";
import { webhookDeliveries, webhookEndpoints } from "../db/schema";
import type { DomainEvent } from "../domain/events";
import { newWebhookSecret, payloadOf, testPayload, WEBHOOK_TEST_EVENT, webhookTypeOf, webhookUrlRefusal, type WebhookEventType } from "../domain/webhooks";
import type { Env } from "../env";
import { ApiError, notFound } from "../errors";
import { newId } from "../lib/ids";

export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
/** The queue message: which delivery to try now. */
export type WebhookMessage = { deliveryId: string };

/** The 400 for a URL that may not receive webhooks. */
export function refuseUnsafeUrl(env: ConfigSource, url: string): void {
  const reason = webhookUrlRefusal(url, configOf(env).environment);
  if (reason) throw new ApiError("WEBHOOK_URL_REFUSED", `The webhook URL ${reason}`, { field: "url", reason });
}

export async function createEndpoint(env: ConfigSource, db: Db, input: { url: string; events: WebhookEventType[]; description?: string | undefined }, createdBy: string): Promise<WebhookEndpoint> {
  refuseUnsafeUrl(env, input.url);
  const [row] = await db
    .insert(webhookEndpoints)
    .values({ id: newId("webhookEndpoint"), url: input.url, events: [...new Set(input.events)], description: input.description ?? null, secret: newWebhookSecret(), createdBy })
    .returning();
  return row!;
}

export function listEndpoints(db: Db, page: { limit: number; after?: { createdAt: Date; id: string } | undefined }): Promise<WebhookEndpoint[]> {
  const { after } = page;
  return db
    .select()
    .from(webhookEndpoints)
    .where(after ? or(lt(webhookEndpoints.createdAt, after.createdAt), and(eq(webhookEndpoints.createdAt, after.createdAt), lt(webhookEndpoints.id, after.id))) : undefined)
    .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
    .limit(page.limit);
}

export async function endpointById(db: Db, id: string): Promise<WebhookEndpoint> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  if (!row) throw notFound("Webhook endpoint", id);
  return row;
}

export interface EndpointPatch {
  url?: string | undefined;
  events?: WebhookEventType[] | undefined;
  description?: string | null | undefined;
  status?: "enabled" | "disabled" | undefined;
}

/** Changes an endpoint; enabling it (again) clears its failure count and streak and the reason it was disabled. */
export async function updateEndpoint(env: ConfigSource, db: Db, id: string, patch: EndpointPatch): Promise<WebhookEndpoint> {
  const current = await endpointById(db, id);
  if (patch.url !== undefined) refuseUnsafeUrl(env, patch.url);
  const changes: Partial<typeof webhookEndpoints.$inferInsert> = { updatedAt: new Date() };
  if (patch.url !== undefined) changes.url = patch.url;
  if (patch.events !== undefined) changes.events = [...new Set(patch.events)];
  if (patch.description !== undefined) changes.description = patch.description;
  if (patch.status === "enabled") Object.assign(changes, { status: "enabled", disabledReason: null, consecutiveFailures: 0, failingSince: null });
  if (patch.status === "disabled" && current.status !== "disabled") Object.assign(changes, { status: "disabled", disabledReason: "disabled by an admin" });
  const [row] = await db.update(webhookEndpoints).set(changes).where(eq(webhookEndpoints.id, id)).returning();
  return row!;
}

export async function deleteEndpoint(db: Db, id: string): Promise<void> {
  const deleted = await db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)).returning({ id: webhookEndpoints.id });
  if (deleted.length === 0) throw notFound("Webhook endpoint", id);
}

/** A new secret at once (the old one stops signing); returned once, like at creation. */
export async function rotateSecret(db: Db, id: string): Promise<WebhookEndpoint> {
  await endpointById(db, id);
  const [row] = await db.update(webhookEndpoints).set({ secret: newWebhookSecret(), updatedAt: new Date() }).where(eq(webhookEndpoints.id, id)).returning();
  return row!;
}

function refuseDisabled(endpoint: WebhookEndpoint): void {
  if (endpoint.status === "disabled") {
    throw new ApiError("WEBHOOK_ENDPOINT_DISABLED", "This webhook endpoint is disabled; enable it first", { id: endpoint.id, disabledReason: endpoint.disabledReason });
  }
}

/** Queues a `webhook.test` message to the endpoint through the usual delivery path; returns the delivery. */
export async function queueTestDelivery(env: Pick<Env, "WEBHOOKS"> & ConfigSource, db: Db, endpointId: string, now = Date.now()): Promise<WebhookDelivery> {
  const endpoint = await endpointById(db, endpointId);
  refuseDisabled(endpoint);
  refuseUnsafeUrl(env, endpoint.url);
  const id = newId("webhookDelivery");
  const [row] = await db
    .insert(webhookDeliveries)
    .values({ id, endpointId, eventType: WEBHOOK_TEST_EVENT, eventId: `test_${id}`, payload: JSON.stringify(testPayload(endpointId, now)), nextAttemptAt: new Date(now), createdAt: new Date(now) })
    .returning();
  await enqueueDeliveries(env, [id]);
  return row!;
}

/** Sends a delivery again from the start (same `webhook-id`, a fresh retry schedule). */
export async function redeliver(env: Pick<Env, "WEBHOOKS">, db: Db, endpointId: string, deliveryId: string, now = Date.now()): Promise<WebhookDelivery> {
  const endpoint = await endpointById(db, endpointId);
  refuseDisabled(endpoint);
  const [row] = await db
    .update(webhookDeliveries)
    .set({ status: "pending", attempts: 0, nextAttemptAt: new Date(now), lastError: null })
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId)))
    .returning();
  if (!row) throw notFound("Webhook delivery", deliveryId);
  await enqueueDeliveries(env, [row.id]);
  return row;
}

export function listDeliveries(db: Db, endpointId: string, page: { limit: number; after?: { createdAt: Date; id: string } | undefined }): Promise<WebhookDelivery[]> {
  const { after } = page;
  return db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.endpointId, endpointId),
        after ? or(lt(webhookDeliveries.createdAt, after.createdAt), and(eq(webhookDeliveries.createdAt, after.createdAt), lt(webhookDeliveries.id, after.id))) : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(page.limit);
}

/** Puts deliveries on the webhooks queue (without the binding, as in some tests, the sweep sends them later). */
export async function enqueueDeliveries(env: Partial<Pick<Env, "WEBHOOKS">>, ids: string[]): Promise<void> {
  if (!env.WEBHOOKS) return;
  for (let i = 0; i < ids.length; i += 100) {
    await env.WEBHOOKS.sendBatch(ids.slice(i, i + 100).map((deliveryId) => ({ body: { deliveryId }, contentType: "json" as const })));
  }
}

/**
 * One delivery per enabled endpoint subscribed to each event's type, created once per (endpoint,
 * event): a redelivered event finds its rows and creates nothing. Queues only the new ones and
 * returns their ids. Does no D1 read at all when no event in the batch can be subscribed to.
 */
export async function fanOutEvents(env: Partial<Pick<Env, "WEBHOOKS">>, db: Db, events: DomainEvent[]): Promise<string[]> {
  const deliverable = events.flatMap((event) => {
    const type = webhookTypeOf(event.type);
    return type ? [{ event, type }] : [];
  });
  if (deliverable.length === 0) return [];
  const endpoints = await db.select({ id: webhookEndpoints.id, events: webhookEndpoints.events }).from(webhookEndpoints).where(eq(webhookEndpoints.status, "enabled"));
  const now = new Date();
  const rows = deliverable.flatMap(({ event, type }) =>
    endpoints
      .filter((endpoint) => endpoint.events.includes(type))
      .map((endpoint) => ({ id: newId("webhookDelivery"), endpointId: endpoint.id, eventType: type, eventId: event.id, payload: JSON.stringify(payloadOf(event, type)), nextAttemptAt: now, createdAt: now })),
  );
  const created: string[] = [];
  // 8 columns a row: 12 rows stay under D1's 100 bound parameters per statement.
  for (let i = 0; i < rows.length; i += 12) {
    const inserted = await db.insert(webhookDeliveries).values(rows.slice(i, i + 12)).onConflictDoNothing().returning({ id: webhookDeliveries.id });
    created.push(...inserted.map((row) => row.id));
  }
  await enqueueDeliveries(env, created);
  return created;
}

/** How long past its time a pending delivery must be before the sweep re-queues it (its message may simply be in flight). */
export const SWEEP_GRACE_MS = 10 * 60_000;

/** Re-queues pending deliveries whose attempt is overdue (their message was lost); returns how many. */
export async function sweepStuckDeliveries(env: Pick<Env, "WEBHOOKS">, db: Db, now: Date, limit = 500): Promise<number> {
  const stuck = await db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(and(eq(webhookDeliveries.status, "pending"), lte(webhookDeliveries.nextAttemptAt, new Date(now.getTime() - SWEEP_GRACE_MS)), eq(webhookEndpoints.status, "enabled")))
    .orderBy(webhookDeliveries.nextAttemptAt)
    .limit(limit);
  await enqueueDeliveries(env, stuck.map((row) => row.id));
  return stuck.length;
}

// ---- the delivery job's writes ------------------------------------------------------------------

/** How long one attempt holds its delivery: longer than the request's timeout, so two messages never send at once. */
export const ATTEMPT_LEASE_MS = 60_000;
/** A message this early for its delivery's next attempt is a duplicate, not a retry. */
const EARLY_SLACK_MS = 5_000;

/**
 * Claims a pending delivery for one attempt (a lease on next_attempt_at) and returns it with its
 * endpoint, or null when it is not due (done, leased by another message, or not yet time).
 */
export async function claimDelivery(db: Db, deliveryId: string, now: number): Promise<{ delivery: WebhookDelivery; endpoint: WebhookEndpoint } | null> {
  const [delivery] = await db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: new Date(now + ATTEMPT_LEASE_MS) })
    .where(
      and(
        eq(webhookDeliveries.id, deliveryId),
        eq(webhookDeliveries.status, "pending"),
        or(sql`${webhookDeliveries.nextAttemptAt} IS NULL`, lte(webhookDeliveries.nextAttemptAt, new Date(now + EARLY_SLACK_MS))),
      ),
    )
    .returning();
  if (!delivery) return null;
  const [endpoint] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, delivery.endpointId));
  return endpoint ? { delivery, endpoint } : null;
}

export interface AttemptOutcome {
  ok: boolean;
  responseStatus: number | null;
  error: string | null;
  /** When to try again after a failure, or null: that was the last attempt. */
  retryAt: number | null;
}

/** When an endpoint is disabled automatically: after this many failed deliveries in a row, or failing for longer than this. */
export interface DisablePolicy {
  failures: number;
  failingForMs: number;
}

/**
 * Records one attempt. Every failed attempt starts the endpoint's failing streak if none is running
 * (`failing_since`); a final failure also counts against it. The endpoint is disabled by whichever
 * rule trips first, and the reason says which; a success ends the streak.
 */
export async function recordAttempt(db: Db, claimed: { delivery: WebhookDelivery; endpoint: WebhookEndpoint }, outcome: AttemptOutcome, now: number, policy: DisablePolicy): Promise<void> {
  const { delivery, endpoint } = claimed;
  const status = outcome.ok ? "succeeded" : outcome.retryAt === null ? "failed" : "pending";
  const update = db
    .update(webhookDeliveries)
    .set({
      status,
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      lastAttemptAt: new Date(now),
      nextAttemptAt: status === "pending" ? new Date(outcome.retryAt!) : null,
      responseStatus: outcome.responseStatus,
      lastError: outcome.error?.slice(0, 500) ?? null,
    })
    .where(eq(webhookDeliveries.id, delivery.id));
  if (outcome.ok) {
    await db.batch([update, db.update(webhookEndpoints).set({ consecutiveFailures: 0, failingSince: null }).where(eq(webhookEndpoints.id, endpoint.id))]);
    return;
  }
  const failures = status === "failed" ? sql`${webhookEndpoints.consecutiveFailures} + 1` : webhookEndpoints.consecutiveFailures;
  // The statements of a batch run in order, so the disabling one sees the count and streak just written.
  const tooMany = sql`${webhookEndpoints.consecutiveFailures} >= ${policy.failures}`;
  const tooLong = sql`${webhookEndpoints.failingSince} < ${now - policy.failingForMs}`;
  const hours = Math.round((policy.failingForMs / 3_600_000) * 100) / 100;
  await db.batch([
    update,
    db
      .update(webhookEndpoints)
      .set({ consecutiveFailures: failures, failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${now})`, updatedAt: new Date(now) })
      .where(eq(webhookEndpoints.id, endpoint.id)),
    db
      .update(webhookEndpoints)
      .set({
        status: "disabled",
        disabledReason: sql`CASE WHEN ${tooMany} THEN ${`disabled automatically after ${policy.failures} deliveries in a row failed every attempt`} ELSE ${`disabled automatically: no successful delivery for more than ${hours} h since the first failure`} END`,
      })
      .where(and(eq(webhookEndpoints.id, endpoint.id), eq(webhookEndpoints.status, "enabled"), or(tooMany, tooLong))),
  ]);
}

/** Ends a delivery without sending it (its endpoint was disabled, or its URL is no longer allowed). */
export async function abandonDelivery(db: Db, deliveryId: string, reason: string): Promise<void> {
  await db.update(webhookDeliveries).set({ status: "failed", nextAttemptAt: null, lastError: reason.slice(0, 500) }).where(eq(webhookDeliveries.id, deliveryId));
}

/** Deliveries by id (for tests and the log). */
export function deliveriesByIds(db: Db, ids: string[]): Promise<WebhookDelivery[]> {
  return ids.length === 0 ? Promise.resolve([]) : db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.id, ids));
}
