/**
 * Join a full session's waitlist (`/sessions/{id}/waitlist`). The form is sent by
 * src/client/waitlist-join.ts to POST /api/v1/sessions/{id}/waitlist. Someone signed in as the
 * address is in line at once and sees their place; anyone else must confirm by the emailed link
 * first, and the page says so. A session with seats left sends the visitor to book instead.
 */
import { seatsLeftText } from "../domain/seats-left";
import { localTime } from "./format";
import { Layout, type LayoutProps } from "./layout";

export interface WaitlistSession {
  id: string;
  classId: string;
  className: string;
  studioName: string;
  timeZone: string;
  startsAt: string;
  capacity: number;
}

export interface WaitlistJoinProps {
  session: WaitlistSession;
  availability: { availableSpots: number; status: "open" | "full" | "cancelled"; waitlistLength: number };
  user?: LayoutProps["user"];
}

/** The session's seats left, kept current by the live-seats feature. */
export function SeatsLeft({ sessionId, availableSpots, status }: { sessionId: string; availableSpots: number; status?: string }) {
  return (
    <span class="seats" data-session-id={sessionId} data-available-spots={String(availableSpots)}>
      {seatsLeftText(availableSpots, status)}
    </span>
  );
}

export function WaitlistJoinPage({ session, availability, user }: WaitlistJoinProps) {
  const when = localTime(session.startsAt, session.timeZone);
  const classHref = `/classes/${encodeURIComponent(session.classId)}`;
  const customer = user?.role === "customer";
  return (
    <Layout title={`Join the waitlist: ${session.className}`} user={user}>
      <p id="waitlist-session">
        <strong>{session.className}</strong> at {session.studioName}, <time datetime={session.startsAt}>{when}</time>.{" "}
        <SeatsLeft sessionId={session.id} availableSpots={availability.availableSpots} status={availability.status} />
      </p>
      {availability.status === "cancelled" ? (
        <p id="waitlist-not-needed" class="notice">
          This session was cancelled. <a href={classHref}>See the class's other sessions</a>.
        </p>
      ) : availability.status !== "full" ? (
        <p id="waitlist-not-needed" class="notice">
          This session is not full: seats are still available, so there is no need to wait. <a href={classHref}>Book it on the class page</a>.
        </p>
      ) : (
        <>
          <p>
            When seats free up, they are offered to the waitlist in order. An offer holds the seats for you for a short time, and we email you a link to accept it.
            {availability.waitlistLength > 0 ? ` ${availability.waitlistLength === 1 ? "1 party is" : `${availability.waitlistLength} parties are`} waiting already.` : ""}
          </p>
          {user ? null : (
            <p class="notice" id="waitlist-confirm-note">
              You do not need an account: after joining, check your inbox and confirm your email address with the link we send. Or <a href={`/sign-in?next=${encodeURIComponent(`/sessions/${session.id}/waitlist`)}`}>sign in</a> to take your place at once.
            </p>
          )}
          <form id="waitlist-join-form" data-waitlist-session={session.id} novalidate>
            <label for="wl-email">Email address</label>
            <input id="wl-email" name="email" type="email" required maxlength={254} autocomplete="email" value={user?.email ?? ""} readonly={customer} />
            <label for="wl-first">First name</label>
            <input id="wl-first" name="firstName" type="text" required maxlength={100} autocomplete="given-name" />
            <label for="wl-last">Last name</label>
            <input id="wl-last" name="lastName" type="text" required maxlength={100} autocomplete="family-name" />
            <label for="wl-seats">Seats wanted (you plus your guests)</label>
            <input id="wl-seats" name="guestCount" type="number" required min={1} max={Math.max(1, session.capacity)} value="1" inputmode="numeric" />
            <p>
              <button type="submit" id="waitlist-join-button">
                Join the waitlist
              </button>
            </p>
          </form>
          <div id="waitlist-result" role="status" aria-live="polite" tabindex={-1}></div>
        </>
      )}
    </Layout>
  );
}

export function SessionNotFoundPage({ user }: { user?: LayoutProps["user"] }) {
  return (
    <Layout title="Session not found" user={user}>
      <p id="session-not-found">We could not find this session. It may have been removed.</p>
      <p>
        <a href="/">Browse classes</a>
      </p>
    </Layout>
  );
}
