/**
 * The catalog (GET /): classes filtered by city, studio and dates (a plain GET form, so filters
 * are links), each with its next sessions in the studio's time, the price, seats left (live) and
 * what a customer can do: Book, Join the waitlist, or Notify me when no instructor is assigned.
 */
import { Layout, type LayoutProps } from "./layout";
import { localTime, pounds } from "./format";
import { SeatsLeft, SessionAction } from "./seats";

export interface CatalogSession {
  id: string;
  startsAt: Date;
  capacity: number;
  availableSpots: number;
  status: "open" | "full" | "cancelled";
  hasTrainer: boolean;
  instructor: string | null;
}

export interface CatalogClass {
  id: string;
  name: string;
  description: string;
  pricePence: number;
  fullSchedulePricePence: number | null;
  bookingKinds: string[];
  studio: { id: string; name: string; timeZone: string };
  city: { id: string; name: string };
  sessions: CatalogSession[];
  moreSessions: boolean;
}

export interface CatalogFilters {
  city: string;
  studio: string;
  /** YYYY-MM-DD as typed. */
  from: string;
  to: string;
}

export interface CatalogProps {
  user: LayoutProps["user"];
  filters: CatalogFilters;
  cities: { id: string; name: string }[];
  studios: { id: string; name: string; cityId: string }[];
  classes: CatalogClass[];
  /** Query string of the next page, or null on the last. */
  nextPage: string | null;
  /** What was wrong with the filters, if anything (they were ignored). */
  problem?: string | undefined;
}

export function CatalogPage({ user, filters, cities, studios, classes, nextPage, problem }: CatalogProps) {
  const cityName = new Map(cities.map((city) => [city.id, city.name]));
  return (
    <Layout title="Classes" user={user}>
      <form method="get" action="/" class="filters" id="catalog-filters" role="search" aria-label="Filter classes">
        <div>
          <label for="filter-city">City</label>
          <select id="filter-city" name="city">
            <option value="">Any city</option>
            {cities.map((city) => (
              <option value={city.id} selected={filters.city === city.id}>
                {city.name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="filter-studio">Studio</label>
          <select id="filter-studio" name="studio">
            <option value="">Any studio</option>
            {studios.map((studio) => (
              <option value={studio.id} selected={filters.studio === studio.id}>
                {`${studio.name} (${cityName.get(studio.cityId) ?? studio.cityId})`}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="filter-from">From</label>
          <input type="date" id="filter-from" name="from" value={filters.from} />
        </div>
        <div>
          <label for="filter-to">Until (inclusive)</label>
          <input type="date" id="filter-to" name="to" value={filters.to} />
        </div>
        <div class="filter-actions">
          <button type="submit">Show classes</button>
          <a href="/">Clear filters</a>
        </div>
      </form>
      {problem ? (
        <p class="error" role="alert" id="filter-problem">
          {problem}
        </p>
      ) : null}
      <p id="results-count" class="muted" aria-live="polite">
        {classes.length === 0 ? "No classes match these filters." : `${classes.length} ${classes.length === 1 ? "class" : "classes"}${nextPage ? " on this page" : ""}`}
      </p>
      <ul class="cards class-list">
        {classes.map((klass) => (
          <li>
            <ClassCard klass={klass} />
          </li>
        ))}
      </ul>
      {nextPage ? (
        <nav aria-label="More classes" class="pager">
          <a rel="next" href={`/?${nextPage}`} id="next-page">
            More classes
          </a>
        </nav>
      ) : null}
    </Layout>
  );
}

function ClassCard({ klass }: { klass: CatalogClass }) {
  const zone = klass.studio.timeZone;
  const anyTaught = klass.sessions.some((session) => session.hasTrainer);
  return (
    <article class="card class-card" data-testid="class-card" data-class-id={klass.id} aria-labelledby={`class-${klass.id}`}>
      <h2 id={`class-${klass.id}`}>
        <a href={`/classes/${klass.id}`}>{klass.name}</a>
      </h2>
      <p class="muted">
        {klass.studio.name}, {klass.city.name}
      </p>
      <p>{klass.description}</p>
      <p class="price" data-testid="price">
        {priceLine(klass)}
      </p>
      {klass.sessions.length === 0 ? (
        <p class="muted">No upcoming sessions in these dates.</p>
      ) : (
        <>
          <h3>Next sessions</h3>
          <ul class="session-list">
            {klass.sessions.map((session) => (
              <li class="session-row" data-session-row={session.id}>
                <time datetime={session.startsAt.toISOString()}>{localTime(session.startsAt, zone)}</time>
                <SeatsLeft sessionId={session.id} availableSpots={session.availableSpots} status={session.status} />
                {session.hasTrainer ? null : <span class="muted">Instructor to be confirmed</span>}
                {/* With no session taught, the card's one "Notify me" below says it for all of them. */}
                {!anyTaught ? null : <SessionAction
                  classId={klass.id}
                  sessionId={session.id}
                  full={session.availableSpots <= 0}
                  hasTrainer={session.hasTrainer}
                  bookHref={`/classes/${klass.id}?session=${encodeURIComponent(session.id)}#book`}
                />}
              </li>
            ))}
          </ul>
        </>
      )}
      {klass.sessions.length > 0 && !anyTaught ? (
        <p class="notice" data-testid="class-notify">
          No instructor is confirmed yet. <a href={`/classes/${klass.id}/notify`}>Notify me</a> when it can be booked.
        </p>
      ) : null}
      <p>
        <a href={`/classes/${klass.id}`}>{klass.moreSessions ? "All dates and details" : "Details"}</a>
      </p>
    </article>
  );
}

/** The prices of the ways a class is sold: per session (single or drop-in) and the whole course. */
export function priceLine(klass: Pick<CatalogClass, "pricePence" | "fullSchedulePricePence" | "bookingKinds">, per = "per session"): string {
  const parts: string[] = [];
  if (klass.bookingKinds.includes("SINGLE_SESSION") || klass.bookingKinds.includes("DROP_IN")) parts.push(`${pounds(klass.pricePence)} ${per}`);
  if (klass.fullSchedulePricePence !== null && klass.bookingKinds.includes("FULL_SCHEDULE")) parts.push(`whole course ${pounds(klass.fullSchedulePricePence)}`);
  const line = parts.join(", ");
  return line.charAt(0).toUpperCase() + line.slice(1);
}
