/**
 * "Notify me" for a class that cannot be booked because no trainer is assigned yet
 * (`/classes/{id}/notify`): register an address (POST /api/v1/demand/waitlist) and check whether
 * one is registered (GET /api/v1/demand/waitlist/check), both by src/client/notify-me.ts.
 */
import { Layout, type LayoutProps } from "./layout";

export interface NotifyClass {
  id: string;
  name: string;
  studioName: string;
}

export function NotifyMePage({ klass, user }: { klass: NotifyClass; user?: LayoutProps["user"] }) {
  const customer = user?.role === "customer";
  return (
    <Layout title={`Notify me: ${klass.name}`} user={user}>
      <p class="notice" id="notify-reason">
        {klass.name} at {klass.studioName} is currently unavailable: no trainer is assigned yet. Leave your email address and we will tell you once it can be booked. We email you once, and nothing else.
      </p>
      <section aria-labelledby="notify-heading">
        <h2 id="notify-heading">Tell me when I can book</h2>
        <form id="notify-form" data-course-id={klass.id} novalidate>
          <label for="notify-email">Email address</label>
          <input id="notify-email" name="email" type="email" required maxlength={254} autocomplete="email" value={user?.email ?? ""} readonly={customer} />
          <p>
            <button type="submit" id="notify-submit">
              Notify me
            </button>
          </p>
        </form>
        <div id="notify-result" role="status" aria-live="polite" tabindex={-1}></div>
      </section>
      <section aria-labelledby="check-heading">
        <h2 id="check-heading">Already asked?</h2>
        <form id="notify-check-form" data-course-id={klass.id} novalidate>
          <label for="notify-check-email">Email address</label>
          <input id="notify-check-email" name="email" type="email" required maxlength={254} autocomplete="email" value={user?.email ?? ""} readonly={customer} />
          <p>
            <button type="submit" class="secondary" id="notify-check">
              Check
            </button>
          </p>
        </form>
        <div id="notify-check-result" role="status" aria-live="polite"></div>
      </section>
      <p>
        <a href={`/classes/${encodeURIComponent(klass.id)}`}>Back to the class</a>
      </p>
    </Layout>
  );
}

export function ClassNotFoundPage({ user }: { user?: LayoutProps["user"] }) {
  return (
    <Layout title="Class not found" user={user}>
      <p id="class-not-found">We could not find this class. It may have been removed.</p>
      <p>
        <a href="/">Browse classes</a>
      </p>
    </Layout>
  );
}
