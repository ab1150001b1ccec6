/**
 * Demand signals a client reports (a course viewed, a checkout started): checked, rate-limited per
 * client address, and sent as events; the events consumer writes the demand signal (same id).
 */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { cities, classes, customers, studios } from "../db/schema";
import { domainEvent } from "../domain/events";
import type { Env, Principal } from "../env";
import { ApiError, notFound } from "../errors";
import { invalidReference } from "../lib/references";
import type { WaitUntil } from "../lib/wait-until";
import { dispatchEvents } from "./events";

export const CLIENT_SIGNAL_TYPES = ["COURSE_VIEW", "CHECKOUT_STARTED"] as const;

/** The event each client signal is sent as. */
const EVENT_OF = { COURSE_VIEW: "COURSE_VIEWED", CHECKOUT_STARTED: "CHECKOUT_STARTED" } as const;

export interface ClientSignal {
  courseId: string;
  signalType: (typeof CLIENT_SIGNAL_TYPES)[number];
  cityId?: string | undefined;
  metadata?: Record<string, string | number | boolean | null> | undefined;
}

export interface SignalCaller {
  env: Pick<Env, "EVENTS" | "SIGNAL_RATE_LIMITER">;
  db: Db;
  principal: Principal | undefined;
  clientKey: string;
  waitUntil?: WaitUntil | undefined;
}

/**
 * Sends one client signal as an event and returns its id (the demand signal's id once written).
 * 429 RATE_LIMITED past the per-client limit, 404 for an unknown course, 422 for an unknown city.
 * The city defaults to the course's own; a customer token links the signal to the customer.
 */
export async function recordClientSignal(caller: SignalCaller, signal: ClientSignal): Promise<{ eventId: string; cityId: string }> {
  const { success } = await caller.env.SIGNAL_RATE_LIMITER.limit({ key: `client:${caller.clientKey}` });
  if (!success) {
    throw new ApiError("RATE_LIMITED", "Too many demand signals from this client; try again in a minute", { scope: "client", retryAfterSeconds: 60 });
  }
  const { db, principal } = caller;
  const [course, city, customer] = await Promise.all([
    db
      .select({ studioId: classes.studioId, cityId: studios.cityId })
      .from(classes)
      .innerJoin(studios, eq(studios.id, classes.studioId))
      .where(eq(classes.id, signal.courseId))
      .get(),
    signal.cityId ? db.select({ id: cities.id }).from(cities).where(eq(cities.id, signal.cityId)).get() : undefined,
    principal?.role === "customer" && principal.email
      ? db.select({ id: customers.id }).from(customers).where(eq(customers.email, principal.email.toLowerCase())).get()
      : undefined,
  ]);
  if (!course) throw notFound("Course", signal.courseId);
  if (signal.cityId && !city) throw invalidReference("cityId", `no such city: ${signal.cityId}`, { missing: [signal.cityId] });

  const cityId = signal.cityId ?? course.cityId;
  const event = domainEvent(EVENT_OF[signal.signalType], {
    classId: signal.courseId,
    studioId: course.studioId,
    cityId,
    customerId: customer?.id ?? null,
    email: principal?.role === "customer" ? (principal.email?.toLowerCase() ?? null) : null,
    clientKey: caller.clientKey,
    // The client's metadata becomes the signal's; `origin` tells these from server-side signals.
    data: { ...signal.metadata, origin: "client" },
  });
  await dispatchEvents(caller.env, [event], caller.waitUntil);
  return { eventId: event.id, cityId };
}
