/**
 * The people on a booking: one attendee per seat, position 1 the booker. An attendee's id is
 * derived from its booking and position, so the projection, named participants, groups and the
 * roster all name the same person without asking each other.
 */

/** `atd_<booking id without its prefix>.<position>`, e.g. `atd_0123abcd-ses_42.2` (booking ids hold no dot). */
export function attendeeId(bookingId: string, position: number): string {
  return `atd_${bookingId.replace(/^bkg_/, "")}.${position}`;
}

/** The booking and position an attendee id names, or null when it is not one. */
export function parseAttendeeId(id: string): { bookingId: string; position: number } | null {
  const match = /^atd_([A-Za-z0-9_-]{1,120})\.(\d{1,4})$/.exec(id);
  if (!match) return null;
  const position = Number(match[2]);
  return position >= 1 ? { bookingId: `bkg_${match[1]}`, position } : null;
}
