/**
 * A class page (GET /classes/{id}): what the class is, who teaches it, what each person uses,
 * its prices, and the booking form. The form is driven by src/client/booking-form.ts: it asks the
 * server for a quote (POST /api/v1/quotes) whenever the choice changes, holds the seats
 * (POST /api/v1/holds) with a countdown, then books (POST /api/v1/bookings). The page never
 * computes a price; the figures shown come from the quote.
 */
import { Layout, type LayoutProps } from "./layout";
import { priceLine } from "./catalog";
import { localTime } from "./format";
import { SeatsLeft, SessionAction } from "./seats";

export interface ClassSession {
  id: string;
  patternId: string | null;
  startsAt: Date;
  endsAt: Date;
  capacity: number;
  location: string | null;
  instructor: string | null;
  hasTrainer: boolean;
  availableSpots: number;
  status: "open" | "full" | "cancelled";
}

export interface ClassCourse {
  patternId: string;
  startsAt: Date;
  sessionCount: number;
  capacity: number;
  availableSpots: number;
  hasTrainer: boolean;
}

export interface ClassPageProps {
  user: LayoutProps["user"];
  klass: {
    id: string;
    name: string;
    description: string;
    pricePence: number;
    fullSchedulePricePence: number | null;
    durationMinutes: number;
    bookingKinds: string[];
    studio: { id: string; name: string; timeZone: string };
    city: { id: string; name: string };
    requiredTeachingRole: { id: string; name: string };
    resourceRequirements: { resourceId: string; name: string; quantityPerStudent: number }[];
    /** The class's cancellation policy in words. */
    cancellationPolicy: string;
    /** Paid when booking (the seats held while the customer pays) or at the desk. */
    paymentMode: "online" | "at_studio";
  };
  sessions: ClassSession[];
  courses: ClassCourse[];
  contact?: { email: string; firstName: string; lastName: string; phone: string } | undefined;
  /** A session picked on the catalog (`?session=`). */
  picked?: string | undefined;
}

const KIND_LABEL: Record<string, string> = {
  SINGLE_SESSION: "One session",
  DROP_IN: "Several sessions (drop-in)",
  FULL_SCHEDULE: "The whole course",
};

export function ClassPage({ user, klass, sessions, courses, contact, picked }: ClassPageProps) {
  const zone = klass.studio.timeZone;
  const instructors = [...new Set(sessions.map((session) => session.instructor).filter((name) => name !== null))];
  const kinds = klass.bookingKinds.filter((kind) => (kind === "FULL_SCHEDULE" ? courses.length > 0 && klass.fullSchedulePricePence !== null : sessions.length > 0));
  const anyTaught = sessions.some((session) => session.hasTrainer);
  const firstKind = picked && kinds.includes("SINGLE_SESSION") ? "SINGLE_SESSION" : kinds[0];
  return (
    <Layout title={klass.name} user={user}>
      <section aria-labelledby="about-heading" class="class-about">
        <h2 id="about-heading">About this class</h2>
        <p id="class-description">{klass.description}</p>
        <dl class="facts">
          <dt>Where</dt>
          <dd>
            {klass.studio.name}, {klass.city.name}
          </dd>
          <dt>Length</dt>
          <dd>{klass.durationMinutes} minutes</dd>
          <dt>Instructor</dt>
          <dd id="class-instructor">
            {instructors.length === 0 ? "To be confirmed" : instructors.join(", ")}
            <span class="muted"> (a qualified {klass.requiredTeachingRole.name})</span>
          </dd>
          <dt>Payment</dt>
          <dd id="class-payment">
            {klass.paymentMode === "online" ? "Paid online when you book: your seats are held while you pay." : "Paid at the studio: your booking is confirmed straight away."}
          </dd>
          <dt>Cancellation</dt>
          <dd id="class-cancellation-policy">{klass.cancellationPolicy}</dd>
          <dt>Each person uses</dt>
          <dd id="class-resources">
            {klass.resourceRequirements.length === 0
              ? "Nothing to reserve"
              : klass.resourceRequirements.map((need) => `${need.quantityPerStudent} × ${need.name}`).join(", ")}
          </dd>
          <dt>Price</dt>
          <dd id="class-prices">
            {priceLine(klass, "per person per session")}
            {klass.fullSchedulePricePence !== null && klass.bookingKinds.includes("FULL_SCHEDULE") ? " per person" : ""}
          </dd>
        </dl>
      </section>

      <section aria-labelledby="book-heading" id="book" class="book">
        <h2 id="book-heading">Book</h2>
        {sessions.length === 0 ? <p class="muted">There are no upcoming sessions of this class.</p> : null}
        {sessions.length > 0 && !anyTaught ? (
          <p class="notice" id="class-notify">
            No qualified instructor is confirmed yet, so this class cannot be booked.{" "}
            <a href={`/classes/${klass.id}/notify`} class="button secondary" data-testid="notify-me">
              Notify me
            </a>
          </p>
        ) : null}
        {kinds.length > 0 && anyTaught ? (
          <BookingForm klass={klass} sessions={sessions} courses={courses} contact={contact} picked={picked} kinds={kinds} firstKind={firstKind!} zone={zone} lockEmail={user?.role === "customer"} />
        ) : null}
      </section>
    </Layout>
  );
}

interface FormProps {
  klass: ClassPageProps["klass"];
  sessions: ClassSession[];
  courses: ClassCourse[];
  contact: ClassPageProps["contact"];
  picked: string | undefined;
  kinds: string[];
  firstKind: string;
  zone: string;
  /** A signed-in customer books for their own address only (staff may book for anyone). */
  lockEmail: boolean;
}

function BookingForm({ klass, sessions, courses, contact, picked, kinds, firstKind, zone, lockEmail }: FormProps) {
  const hasResources = klass.resourceRequirements.length > 0;
  return (
    <>
      <noscript>
        <p class="notice">Booking on this page needs JavaScript. Please turn it on, or contact the studio.</p>
      </noscript>
      <form id="booking-form" data-booking-form data-class-id={klass.id} data-class-name={klass.name} data-time-zone={zone}>
        {kinds.length > 1 ? (
          <fieldset id="kind-picker">
            <legend>How would you like to book?</legend>
            {kinds.map((kind) => (
              <div class="choice">
                <input type="radio" name="registrationType" id={`kind-${kind}`} value={kind} checked={kind === firstKind} />
                <label for={`kind-${kind}`}>{KIND_LABEL[kind] ?? kind}</label>
              </div>
            ))}
          </fieldset>
        ) : (
          <input type="hidden" name="registrationType" value={firstKind} />
        )}

        {kinds.includes("SINGLE_SESSION") ? (
          <fieldset data-kind-section="SINGLE_SESSION" hidden={firstKind !== "SINGLE_SESSION"} id="pick-session">
            <legend>Pick a session</legend>
            <ul class="picker">
              {sessions.map((session) => (
                <SessionChoice session={session} zone={zone} type="radio" classId={klass.id} checked={picked === session.id && session.hasTrainer && session.availableSpots > 0} />
              ))}
            </ul>
          </fieldset>
        ) : null}

        {kinds.includes("DROP_IN") ? (
          <fieldset data-kind-section="DROP_IN" hidden={firstKind !== "DROP_IN"} id="pick-drop-ins">
            <legend>Pick the sessions you want</legend>
            <ul class="picker">
              {sessions.map((session) => (
                <SessionChoice session={session} zone={zone} type="checkbox" classId={klass.id} checked={false} />
              ))}
            </ul>
          </fieldset>
        ) : null}

        {kinds.includes("FULL_SCHEDULE") ? (
          <fieldset data-kind-section="FULL_SCHEDULE" hidden={firstKind !== "FULL_SCHEDULE"} id="pick-course">
            <legend>Pick a course</legend>
            <ul class="picker">
              {courses.map((course, index) => (
                <CourseChoice course={course} zone={zone} classId={klass.id} checked={index === 0 && course.hasTrainer && course.availableSpots > 0} />
              ))}
            </ul>
          </fieldset>
        ) : null}

        <div class="field">
          <label for="guest-count">People (you and your guests)</label>
          <input type="number" id="guest-count" name="guestCount" min="1" max="50" value="1" inputmode="numeric" required aria-describedby="guest-help" />
          <p id="guest-help" class="muted">
            {hasResources ? "Seats and equipment are checked for this many people." : "Seats are checked for this many people."}
          </p>
        </div>
        <div class="field">
          <label for="promo-code">Promo code (optional)</label>
          <input type="text" id="promo-code" name="promoCode" maxlength={40} autocomplete="off" />
        </div>

        <section id="quote" class="quote" aria-labelledby="quote-heading" aria-live="polite">
          <h3 id="quote-heading">Price</h3>
          <div id="quote-body" data-testid="quote-body">
            <p class="muted">Choose what to book to see the price.</p>
          </div>
        </section>

        <fieldset id="contact">
          <legend>Your details</legend>
          <label for="contact-email">Email</label>
          <input type="email" id="contact-email" name="email" autocomplete="email" required maxlength={254} value={contact?.email ?? ""} readonly={lockEmail} />
          {lockEmail ? <p class="muted">You are signed in, so the booking is made for this address.</p> : null}
          <label for="contact-first-name">First name</label>
          <input type="text" id="contact-first-name" name="firstName" autocomplete="given-name" required maxlength={100} value={contact?.firstName ?? ""} />
          <label for="contact-last-name">Last name</label>
          <input type="text" id="contact-last-name" name="lastName" autocomplete="family-name" required maxlength={100} value={contact?.lastName ?? ""} />
          <label for="contact-phone">Phone (optional)</label>
          <input type="tel" id="contact-phone" name="phone" autocomplete="tel" maxlength={20} value={contact?.phone ?? ""} />
        </fieldset>

        <p id="booking-error" class="error" role="alert" data-testid="booking-error"></p>
        <button type="submit" id="hold-button" disabled>
          Hold my seats
        </button>
      </form>

      <section id="checkout" class="card checkout" hidden aria-labelledby="checkout-heading" tabindex={-1}>
        <h3 id="checkout-heading">Confirm your booking</h3>
        <p>
          Your seats are held for{" "}
          <strong id="hold-countdown" role="timer" aria-live="off">
            --:--
          </strong>
          . Confirm before the time runs out.
        </p>
        <div id="checkout-summary" data-testid="checkout-summary"></div>
        <p id="checkout-error" class="error" role="alert" data-testid="checkout-error"></p>
        <div class="actions">
          <button type="button" id="confirm-button">
            Confirm booking
          </button>
          <button type="button" id="change-button" class="secondary">
            Change my choice
          </button>
        </div>
      </section>

      <section id="confirmation" class="card confirmation" hidden aria-labelledby="confirmation-heading" tabindex={-1} data-testid="confirmation">
        <h3 id="confirmation-heading">You are booked</h3>
        <div id="confirmation-body"></div>
      </section>
    </>
  );
}

interface ChoiceProps {
  session: ClassSession;
  zone: string;
  type: "radio" | "checkbox";
  classId: string;
  checked: boolean;
}

/** One session in the picker: its time (the label), who teaches, seats left, and the way out when it cannot be picked. */
function SessionChoice({ session, zone, type, classId, checked }: ChoiceProps) {
  const id = `${type === "radio" ? "session" : "dropin"}-${session.id}`;
  const label = localTime(session.startsAt, zone);
  const full = session.availableSpots <= 0;
  return (
    <li class="choice session-row" data-session-row={session.id}>
      <input
        type={type}
        name={type === "radio" ? "sessionId" : "sessionIds"}
        id={id}
        value={session.id}
        checked={checked}
        disabled={!session.hasTrainer || full}
        data-disable-when-full={session.hasTrainer ? "" : undefined}
        data-label={label}
      />
      <label for={id}>
        <time datetime={session.startsAt.toISOString()}>{label}</time>
        <span class="muted">
          {" "}
          · {session.instructor ?? "instructor to be confirmed"}
          {session.location ? ` · ${session.location}` : ""}
        </span>
      </label>
      <SeatsLeft sessionId={session.id} availableSpots={session.availableSpots} status={session.status} />
      {!session.hasTrainer ? (
        <SessionAction classId={classId} sessionId={session.id} full={full} hasTrainer={false} bookHref="" />
      ) : (
        <a href={`/sessions/${session.id}/waitlist`} data-show-when="full" hidden={!full} data-testid={`${type}-waitlist-${session.id}`}>
          Join the waitlist
        </a>
      )}
    </li>
  );
}

/** One course (schedule) in the picker: when it starts, how many sessions, enrolled of max. */
function CourseChoice({ course, zone, classId, checked }: { course: ClassCourse; zone: string; classId: string; checked: boolean }) {
  const id = `course-${course.patternId}`;
  const enrolled = course.capacity - course.availableSpots;
  const label = `Starts ${localTime(course.startsAt, zone)}`;
  return (
    <li class="choice" data-course={course.patternId}>
      <input type="radio" name="patternId" id={id} value={course.patternId} checked={checked} disabled={!course.hasTrainer || course.availableSpots <= 0} data-label={label} />
      <label for={id}>
        {label}
        <span class="muted">
          {" "}
          · {course.sessionCount} {course.sessionCount === 1 ? "session" : "sessions"} ·{" "}
        </span>
        <span data-testid={`enrolled-${course.patternId}`}>
          {enrolled}/{course.capacity} enrolled
        </span>
      </label>
      {course.availableSpots <= 0 ? <span class="badge full">FULL</span> : null}
      {!course.hasTrainer ? (
        <a class="button secondary" href={`/classes/${classId}/notify`}>
          Notify me
        </a>
      ) : null}
    </li>
  );
}
