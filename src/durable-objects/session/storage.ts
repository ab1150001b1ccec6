/**
 * The session object's SQLite storage: its tables, the configuration row (catalog snapshot, seat
 * counters and change counter) and the row types. Synchronous functions over `SqlStorage`; every
 * caller runs them inside the one `transactionSync` its RPC method started.
 */
import { limitIdentityOf } from "../../domain/email-identity";
import type { SessionSnapshot } from "../session-contract";

/** The configuration row: the adopted catalog snapshot, the seat counters and the change counter. */
export type ConfigRow = {
  session_id: string;
  capacity: number;
  starts_at: number;
  cancelled: number;
  config_version: number;
  resources: string;
  version: number;
  /** Seats in confirmed reservations and in holds: kept in each transaction, so no change recounts. */
  booked_seats: number;
  held_seats: number;
};

export type ReservationRow = {
  id: string;
  booking_id: string | null;
  status: "held" | "confirmed" | "released" | "cancelled";
  seats: number;
  email: string;
  client_key: string;
  expires_at: number | null;
  booking: string | null;
  /** 'checkout' (POST /holds, or a booking's own hold) or 'offer' (seats held for a waitlist offer). */
  origin: "checkout" | "offer";
  /** The coordinator of a booking spanning sessions, asked before this hold is let go; null for one session. */
  coordinator: string | null;
  /** The version of this line's last change queued for D1 (booking_sessions.version once delivered). */
  line_version: number | null;
  created_at: number;
  updated_at: number;
};

export type WaitlistRow = {
  id: string;
  email: string;
  guest_count: number;
  /** PRIORITY_RANK: 0 high, 1 normal, 2 low. */
  priority: number;
  joined_seq: number;
  status: "waiting" | "offered" | "expired" | "booked" | "removed" | "declined";
  offer_window_ms: number;
  offer_hold_id: string | null;
  offer_expires_at: number | null;
  reminder_at: number | null;
  offers_made: number;
  booking_id: string | null;
  details: string;
  /** When the party proved its email (the join message's link) or joined signed in; null until then. */
  confirmed_at: number | null;
  /** An unconfirmed entry leaves the line at this time. */
  confirm_by: number | null;
  /** Whose per-address allowance the entry draws on: the client address, or `customer:<id>` when signed in. */
  client_key: string | null;
  /** Seats that client may hold or book in this session (its share); an offer that would pass it is not made. Null: no cap (staff). */
  client_cap: number | null;
  created_at: number;
  updated_at: number;
};

/** Creates or upgrades the tables; run once per object start, inside blockConcurrencyWhile. */
export function migrateSessionStorage(sql: SqlStorage): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    session_id TEXT NOT NULL, capacity INTEGER NOT NULL, starts_at INTEGER NOT NULL,
    cancelled INTEGER NOT NULL, config_version INTEGER NOT NULL, resources TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0)`);
  sql.exec(`CREATE TABLE IF NOT EXISTS reservations (
    id TEXT PRIMARY KEY, booking_id TEXT, status TEXT NOT NULL, seats INTEGER NOT NULL,
    email TEXT NOT NULL, client_key TEXT NOT NULL, expires_at INTEGER, booking TEXT,
    origin TEXT NOT NULL DEFAULT 'checkout', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
  sql.exec(`CREATE INDEX IF NOT EXISTS reservations_status ON reservations (status, expires_at)`);
  sql.exec(`CREATE INDEX IF NOT EXISTS reservations_booking ON reservations (booking_id)`);
  sql.exec(`CREATE INDEX IF NOT EXISTS reservations_email ON reservations (email, status)`);
  sql.exec(`CREATE INDEX IF NOT EXISTS reservations_client ON reservations (client_key, status)`);
  // The waitlist: this object alone orders it (priority, then order of joining) and makes offers.
  sql.exec(`CREATE TABLE IF NOT EXISTS waitlist (
    id TEXT PRIMARY KEY, email TEXT NOT NULL, guest_count INTEGER NOT NULL, priority INTEGER NOT NULL,
    joined_seq INTEGER NOT NULL, status TEXT NOT NULL, offer_window_ms INTEGER NOT NULL,
    offer_hold_id TEXT, offer_expires_at INTEGER, reminder_at INTEGER, offers_made INTEGER NOT NULL DEFAULT 0,
    booking_id TEXT, details TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)`);
  sql.exec(`CREATE INDEX IF NOT EXISTS waitlist_offer_hold ON waitlist (offer_hold_id)`);
  sql.exec(`CREATE UNIQUE INDEX IF NOT EXISTS waitlist_active_email ON waitlist (email) WHERE status IN ('waiting', 'offered')`);
  sql.exec(`CREATE INDEX IF NOT EXISTS waitlist_order ON waitlist (status, priority, joined_seq)`);
  // What D1 and the Queues must hear of (outbox.ts).
  sql.exec(`CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, change TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT)`);
  // Idempotency-Key records of the writes made here, beside them (idempotency.ts).
  sql.exec(`CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL, reservation_id TEXT NOT NULL,
    outcome TEXT NOT NULL, created_at INTEGER NOT NULL, PRIMARY KEY (scope, key))`);
  sql.exec(`CREATE INDEX IF NOT EXISTS idempotency_created ON idempotency (created_at)`);

  // Objects made before the counters and coordinators existed gain them once, counted from their rows.
  // Each column on its own (a start that died between them still gets the other), and the counters
  // recounted whenever either is new.
  const addedBooked = addColumn(sql, "config", "booked_seats INTEGER NOT NULL DEFAULT 0");
  const addedHeld = addColumn(sql, "config", "held_seats INTEGER NOT NULL DEFAULT 0");
  if (addedBooked || addedHeld) {
    sql.exec(`UPDATE config SET
      booked_seats = (SELECT coalesce(sum(seats), 0) FROM reservations WHERE status = 'confirmed'),
      held_seats = (SELECT coalesce(sum(seats), 0) FROM reservations WHERE status = 'held')`);
  }
  addColumn(sql, "reservations", "coordinator TEXT");
  // The version of the line's last change sent to D1: reconciliation tells a change in flight from drift.
  addColumn(sql, "reservations", "line_version INTEGER");
  // Whose per-email allowance a reservation draws on (sub-addresses count as their address).
  if (addColumn(sql, "reservations", "email_key TEXT")) {
    for (const row of sql.exec<{ id: string; email: string }>(`SELECT id, email FROM reservations`).toArray()) {
      sql.exec(`UPDATE reservations SET email_key = ? WHERE id = ?`, limitIdentityOf(row.email), row.id);
    }
  }
  sql.exec(`CREATE INDEX IF NOT EXISTS reservations_email_key ON reservations (email_key, status)`);
  // Only parties that proved their email get offers; entries from before confirmation existed count as proven.
  if (addColumn(sql, "waitlist", "confirmed_at INTEGER")) sql.exec(`UPDATE waitlist SET confirmed_at = created_at`);
  addColumn(sql, "waitlist", "confirm_by INTEGER");
  addColumn(sql, "waitlist", "client_key TEXT");
  addColumn(sql, "waitlist", "client_cap INTEGER");
  sql.exec(`CREATE INDEX IF NOT EXISTS waitlist_client ON waitlist (client_key, status)`);
}

/** Adds a column unless it is there; true when it was added. */
function addColumn(sql: SqlStorage, table: string, definition: string): boolean {
  const name = definition.split(" ")[0]!;
  const exists = sql.exec<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, table).toArray().some((column) => column.name === name);
  if (exists) return false;
  sql.exec(`ALTER TABLE ${table} ADD COLUMN ${definition}`);
  return true;
}

/**
 * The config row as last read or written, kept only for the length of one write (`withConfigCopy`):
 * a write reads it several times, and every change to it inside the write goes through this
 * module, which keeps the copy current.
 */
const configCopies = new WeakMap<SqlStorage, ConfigRow | null>();

export function readConfig(sql: SqlStorage): ConfigRow | undefined {
  const copy = configCopies.get(sql);
  if (copy) return copy;
  const config = sql.exec<ConfigRow>(`SELECT * FROM config WHERE id = 1`).toArray()[0];
  if (copy === null && config) configCopies.set(sql, config);
  return config;
}

/** Runs `write` (one transaction) with the config row read at most once; no copy outlives it. */
export function withConfigCopy<T>(sql: SqlStorage, write: () => T): T {
  configCopies.set(sql, null);
  try {
    return write();
  } finally {
    configCopies.delete(sql);
  }
}

function forgetConfig(sql: SqlStorage): void {
  if (configCopies.has(sql)) configCopies.set(sql, null);
}

/** Takes the caller's catalog snapshot when it is newer than ours (or we have none, or `force`). */
export function adoptSnapshot(sql: SqlStorage, snapshot: SessionSnapshot, options: { force: boolean } = { force: false }): void {
  const current = readConfig(sql);
  if (current && !options.force && current.config_version >= snapshot.configVersion) return;
  forgetConfig(sql);
  sql.exec(
    `INSERT INTO config (id, session_id, capacity, starts_at, cancelled, config_version, resources, version)
     VALUES (1, ?, ?, ?, ?, ?, ?, 0)
     ON CONFLICT (id) DO UPDATE SET capacity = excluded.capacity, starts_at = excluded.starts_at,
       cancelled = excluded.cancelled, config_version = max(config.config_version, excluded.config_version),
       resources = excluded.resources`,
    snapshot.sessionId,
    snapshot.capacity,
    snapshot.startsAt,
    snapshot.cancelled ? 1 : 0,
    snapshot.configVersion,
    JSON.stringify(snapshot.resources),
  );
}

/** The session's change counter: live subscribers see it as `version`, D1 orders lines by it. Returns the new value. */
export function bumpVersion(sql: SqlStorage): number {
  const version = sql.exec<{ version: number }>(`UPDATE config SET version = version + 1 WHERE id = 1 RETURNING version`).one().version;
  const copy = configCopies.get(sql);
  if (copy) copy.version = version;
  return version;
}

/** Moves the seat counters by the given deltas (a reservation entering or leaving a state). */
export function moveSeats(sql: SqlStorage, delta: { booked?: number; held?: number }): void {
  sql.exec(`UPDATE config SET booked_seats = booked_seats + ?, held_seats = held_seats + ? WHERE id = 1`, delta.booked ?? 0, delta.held ?? 0);
  const copy = configCopies.get(sql);
  if (copy) {
    copy.booked_seats += delta.booked ?? 0;
    copy.held_seats += delta.held ?? 0;
  }
}

/** Closes the session for good (it is being deleted): no snapshot can reopen it. */
export function retireConfig(sql: SqlStorage): void {
  forgetConfig(sql);
  sql.exec(`UPDATE config SET cancelled = 1, config_version = ? WHERE id = 1`, Number.MAX_SAFE_INTEGER);
}

export const count = (sql: SqlStorage, query: string, ...args: SqlStorageValue[]): number => sql.exec<{ n: number }>(query, ...args).one().n;
