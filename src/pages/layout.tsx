/**
 * The frame every page shares: head, skip link, navigation, main, footer. Pages are server-rendered
 * views (props in, HTML out); what must be interactive (live seats, the booking form, countdowns,
 * charts) is the small bundle in src/client/, built to /assets/app.js and loaded as a module.
 */
import type { Child } from "hono/jsx";

export interface LayoutProps {
  title: string;
  /** Which part of the product the page belongs to: the customer site or the studio console. */
  area?: "site" | "console";
  /** The signed-in user, when there is one (navigation offers sign-out and their pages). */
  user?: { email: string; role: "customer" | "staff" | "admin" } | undefined;
  children?: Child;
}

export function Layout({ title, area = "site", user, children }: LayoutProps) {
  const staff = user?.role === "staff" || user?.role === "admin";
  return (
    <html lang="en-GB">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Class booking`}</title>
        <link rel="stylesheet" href="/assets/site.css" />
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
        <script type="module" src="/assets/app.js" defer></script>
      </head>
      <body class={area}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <nav aria-label="Main">
            <a class="brand" href={area === "console" ? "/admin" : "/"}>
              {area === "console" ? "Studio console" : "Classes"}
            </a>
            <ul>
              {area === "console" ? (
                <>
                  <li><a href="/admin">Dashboard</a></li>
                  <li><a href="/admin/sessions">Sessions</a></li>
                  <li><a href="/admin/bookings">Bookings</a></li>
                  <li><a href="/admin/alerts">Alerts</a></li>
                  <li><a href="/">Site</a></li>
                </>
              ) : (
                <>
                  <li><a href="/">Catalog</a></li>
                  {user ? <li><a href="/me">My bookings</a></li> : null}
                  {staff ? <li><a href="/admin">Console</a></li> : null}
                </>
              )}
              <li>
                {user ? (
                  <form method="post" action="/sign-out" class="inline">
                    <button type="submit" class="link">Sign out</button>
                  </form>
                ) : (
                  <a href="/sign-in">Sign in</a>
                )}
              </li>
            </ul>
          </nav>
        </header>
        <main id="main" tabindex={-1}>
          <h1>{title}</h1>
          {children}
        </main>
        <footer class="bottom">
          <p>Times are shown in each studio's local time, with its zone.</p>
        </footer>
      </body>
    </html>
  );
}
