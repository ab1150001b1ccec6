/**
 * How a session's seats left read to a customer, pure: the server-rendered pages and the browser's
 * live feed (src/client/live-seats.ts) both say it with this, so a live update reads the same as
 * the page did. "FULL" at none, "N left" when few, "N seats left" otherwise.
 */

/** At or below this many seats left, the page says "N left" and stands out. */
export const FEW_SEATS = 3;

export type SeatsLevel = "full" | "few" | "many" | "cancelled";

export function seatsLevel(availableSpots: number, status?: string): SeatsLevel {
  if (status === "cancelled") return "cancelled";
  if (availableSpots <= 0 || status === "full") return "full";
  return availableSpots <= FEW_SEATS ? "few" : "many";
}

export function seatsLeftText(availableSpots: number, status?: string): string {
  switch (seatsLevel(availableSpots, status)) {
    case "cancelled":
      return "Cancelled";
    case "full":
      return "FULL";
    case "few":
      return `${availableSpots} left`;
    case "many":
      return `${availableSpots} seats left`;
  }
}

/** The shared stylesheet's badge for each level (public/assets/site.css: .badge.full, .low, .ok). */
export const SEATS_BADGE: Record<SeatsLevel, string> = { full: "full", few: "low", many: "ok", cancelled: "full" };
