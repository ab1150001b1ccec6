/**
 * What one Worker instance remembers for a moment, so a hot session's bookings and refusals do not
 * each read D1 or wake the session's object for facts that have not changed:
 *
 * - the catalog facts a booking reads (session, class, price, instructor, resources), for
 *   CATALOG_CACHE_MS (1 s). Seats are never cached: the session's object decides them. An admin
 *   write through this Worker forgets everything at once; elsewhere a change shows within the TTL.
 * - sessions its object just reported full, for FULL_SESSION_CACHE_MS (at most 1 s): a new booking
 *   or hold for one is refused here (SESSION_FULL). A cancellation through this Worker forgets it.
 */

/**
 * Entries that expire after `ttlMs`; at most `limit` kept (the oldest go first). An entry past half
 * its life is refreshed ahead of time: `get` answers "missing" to one caller, which reads the fact
 * afresh and `set`s it, while everyone else keeps the entry until it expires. So a busy key never
 * expires under all its readers at once (a stampede of reads after every expiry), and no entry is
 * ever used past its time. Half, not later: under load a request takes most of a second, and a
 * refresh that lands after the expiry is the stampede again (bench:hot-drop refused at 0.47× the
 * trivial route with refreshes at three quarters, 0.60× at half). The cost is up to two reads per
 * key a second instead of one.
 */
export class ShortLived<V> {
  private readonly entries = new Map<string, { value: V; setAt: number; until: number; refreshing: boolean }>();

  constructor(private readonly limit = 1000) {}

  get(key: string, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    if (!entry.refreshing && now - entry.setAt >= (entry.until - entry.setAt) / 2) {
      entry.refreshing = true;
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number, now = Date.now()): void {
    if (ttlMs <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, setAt: now, until: now + ttlMs, refreshing: false });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Catalog rows by selection (src/services/booking-context.ts). */
export const catalogCache = new ShortLived<unknown>(500);

/** Sessions seen full, with what a refusal's events need to say about them. */
export const fullSessions = new ShortLived<{ subject: { classId: string; studioId: string | null; cityId: string | null; sessionIds: string[] } }>(2000);

/** After an admin write: capacity, prices, instructors or schedules may have changed. */
export function forgetCatalog(): void {
  catalogCache.clear();
  fullSessions.clear();
}
