/**
 * Setting the scene through the admin and booking APIs: a class of its own for each test (its
 * own qualified instructor, so tests never meet on one instructor's calendar or one session's
 * seats), guest bookings that fill it, and cancellations "elsewhere".
 */
import { admin, api } from "./api";

const STUDIO = "stu_clay_kiln";
/** The seed's pottery role: Ana and Ben hold it. */
export const POTTERY_ROLE = "rol_pottery";
const DAY = 24 * 3600_000;
const HOUR = 3600_000;

let counter = 0;
function unique(label: string): string {
  counter += 1;
  return `${label}-${Date.now().toString(36)}-${counter}`;
}

export interface SceneClass {
  classId: string;
  name: string;
  pricePence: number;
  instructorId: string;
  sessionIds: string[];
  /** When the first session starts (ISO instant). */
  firstStartsAt: string;
}

/**
 * A bookable class at the seed's London studio with `sessions` one-off sessions of `capacity`
 * seats a week apart, 20 days ahead and on (or starting at `startsAt`, ms), taught by a new pottery
 * teacher (none when `instructor` is false); `certificateValidityDays` makes it give certificates.
 */
export async function freshClass(options: {
  capacity: number;
  sessions?: number;
  instructor?: boolean;
  pricePence?: number;
  label?: string;
  startsAt?: number[];
  certificateValidityDays?: number;
  /** "online": paid when booking, through the local provider's checkout. */
  paymentMode?: "online" | "at_studio";
}): Promise<SceneClass> {
  const id = unique(options.label ?? "e2e");
  const pricePence = options.pricePence ?? 2500;
  const name = `E2E ${id}`;
  const teacher = (await admin("POST", "/staff", { email: `${id}@teachers.e2e.example`, firstName: "Tess", lastName: `Teacher ${counter}`, roleIds: [POTTERY_ROLE] })).json;
  const klass = (
    await admin("POST", "/classes", {
      studioId: STUDIO,
      name,
      description: "A class made by the end-to-end tests.",
      pricePence,
      durationMinutes: 60,
      defaultCapacity: options.capacity,
      requiredRoleId: POTTERY_ROLE,
      bookingKinds: ["SINGLE_SESSION"],
      ...(options.certificateValidityDays === undefined ? {} : { certificateValidityDays: options.certificateValidityDays }),
      ...(options.paymentMode === undefined ? {} : { paymentMode: options.paymentMode }),
    })
  ).json;
  const first = Math.ceil((Date.now() + 20 * DAY) / HOUR) * HOUR + 10 * HOUR;
  const starts = options.startsAt ?? Array.from({ length: options.sessions ?? 1 }, (_, index) => first + index * 7 * DAY);
  const sessionIds: string[] = [];
  for (const startsAt of starts) {
    const session = (
      await admin("POST", "/sessions", {
        classId: klass.id,
        startsAt: new Date(startsAt).toISOString(),
        capacity: options.capacity,
        location: "Room E2E",
        ...(options.instructor === false ? {} : { instructorId: teacher.id }),
      })
    ).json;
    sessionIds.push(session.id);
  }
  return { classId: klass.id, name, pricePence, instructorId: teacher.id, sessionIds, firstStartsAt: new Date(starts[0] ?? first).toISOString() };
}

export interface GuestBooking {
  bookingId: string;
  manageToken: string;
  email: string;
}

/** A guest books `seats` of a session through the public API, from a client address of its own. */
export async function bookAsGuest(sessionId: string, pricePence: number, seats = 1, email = `${unique("guest")}@guests.e2e.example`): Promise<GuestBooking> {
  const { json } = await api("POST", "/api/v1/bookings", {
    headers: { "Idempotency-Key": crypto.randomUUID() },
    body: {
      registrationType: "SINGLE_SESSION",
      sessionId,
      guestCount: seats,
      contact: { email, firstName: "Gita", lastName: "Guest" },
      totalAmountPence: pricePence * seats,
      currency: "GBP",
    },
    expect: [201],
  });
  return { bookingId: json.booking.id, manageToken: json.manageToken, email };
}

/** The guest cancels with their manage token, as from the link in their confirmation. */
export async function cancelAsGuest(booking: GuestBooking): Promise<void> {
  await api("POST", `/api/v1/bookings/${booking.bookingId}/cancel`, { headers: { "X-Manage-Token": booking.manageToken, "Idempotency-Key": crypto.randomUUID() } });
}

/** What the session's object says now (GET /api/v1/sessions/{id}/availability). */
export async function availability(sessionId: string): Promise<{ availableSpots: number; status: string; waitlistLength: number; held: number; booked: number }> {
  return (await api("GET", `/api/v1/sessions/${sessionId}/availability`)).json;
}
