/**
 * The sign-in pages: ask for an address, "check your email", the confirm step a link opens (it
 * names the address and asks before spending the link, so a mail scanner signs nobody in), and
 * the outcomes. Plain forms: they work without the script bundle.
 */
import { Layout, type LayoutProps } from "./layout";

type User = LayoutProps["user"];

/** "a…@example.com": enough to recognise one's own address, not enough to read someone else's. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at <= 0) return "…";
  return `${email[0]}…${email.slice(at)}`;
}

/** Carries where to go after signing in through a form. */
function NextField({ next }: { next: string }) {
  return next === "/" ? null : <input type="hidden" name="next" value={next} />;
}

export function SignInForm({ message, next, user, status }: { message?: string | undefined; next: string; user?: User; status?: "error" | "info" }) {
  return (
    <Layout title="Sign in" user={user}>
      {message ? (
        <p class={status === "info" ? "notice" : "error"} role={status === "info" ? "status" : "alert"} id="sign-in-message">
          {message}
        </p>
      ) : null}
      {user ? (
        <p class="notice" id="signed-in-already">
          You are signed in as {user.email}. {next !== "/" ? <a href={next}>Continue</a> : null} To sign in as someone else, ask for a link below.
        </p>
      ) : null}
      <p>We email you a link that signs you in. No password needed.</p>
      <form method="post" action="/sign-in" id="sign-in-form">
        <label for="email">Your email address</label>
        <input id="email" name="email" type="email" required maxlength={254} autocomplete="email" />
        <NextField next={next} />
        <p>
          <button type="submit">Email me a sign-in link</button>
        </p>
      </form>
    </Layout>
  );
}

export function CheckEmail({ email, devMailbox }: { email: string; devMailbox: boolean }) {
  return (
    <Layout title="Check your email">
      <p id="link-sent" role="status">
        If {email} can receive email, a sign-in link is on its way. It works once, for a short time.
      </p>
      {devMailbox ? (
        <p class="notice">
          Running locally: the message is in the <a href={`/dev/mailbox?to=${encodeURIComponent(email)}`}>dev mailbox</a>.
        </p>
      ) : null}
    </Layout>
  );
}

/** The page a link opens: whose address it signs in as, and a button to use it. */
export function ConfirmLink({ token, email, next, user }: { token: string; email: string; next: string; user?: User }) {
  const masked = maskEmail(email);
  return (
    <Layout title="Sign in" user={user}>
      {user && user.email !== email ? (
        <p class="notice" id="switch-account">
          You are signed in as {user.email}; continuing signs you in as {masked} instead.
        </p>
      ) : null}
      <form method="post" action="/sign-in/verify" id="verify-form">
        <input type="hidden" name="token" value={token} />
        <NextField next={next} />
        <p>
          <button type="submit" id="verify-button">
            Sign in as {masked}
          </button>
        </p>
      </form>
    </Layout>
  );
}

const UNUSABLE = {
  used: "This sign-in link has already been used. Ask for a new one below.",
  expired: "This sign-in link has expired. Ask for a new one below.",
  unknown: "This sign-in link is not valid. Ask for a new one below.",
} as const;

/** A link that cannot sign anyone in: why, and the form to ask for another. */
export function LinkUnusable({ reason, next, user }: { reason: keyof typeof UNUSABLE; next: string; user?: User }) {
  return <SignInForm message={UNUSABLE[reason]} next={next} user={user} />;
}

export function SignedIn({ user, next }: { user: NonNullable<User>; next: string }) {
  const staff = user.role === "staff" || user.role === "admin";
  return (
    <Layout title="Signed in" user={user}>
      <p id="signed-in" role="status">
        You are signed in as {user.email} ({user.role}).
      </p>
      <ul>
        {next !== "/" ? (
          <li>
            <a href={next}>Continue where you were</a>
          </li>
        ) : null}
        <li>
          <a href="/me">My bookings</a>
        </li>
        {staff ? (
          <li>
            <a href="/admin">Studio console</a>
          </li>
        ) : null}
        <li>
          <a href="/">Browse classes</a>
        </li>
      </ul>
    </Layout>
  );
}

export function SignedOut() {
  return (
    <Layout title="Signed out">
      <p role="status">You are signed out.</p>
      <p>
        <a href="/sign-in">Sign in again</a>
      </p>
    </Layout>
  );
}

/** A form post the page cannot take (too large, not a form): a page, not the API's JSON. */
export function BadFormPost({ message }: { message: string }) {
  return (
    <Layout title="Sign in">
      <p class="error" role="alert">
        {message}
      </p>
      <p>
        <a href="/sign-in">Back to sign-in</a>
      </p>
    </Layout>
  );
}
