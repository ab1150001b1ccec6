/** How pages show money and time: pounds from integer pence, instants in the studio's zone with the zone named. */
import { DateTime } from "luxon";

export function pounds(pence: number): string {
  return new Intl.NumberFormat("en-GB", { style: "currency", currency: "GBP" }).format(pence / 100);
}

/** "Mon 7 Dec 2026, 07:00 GMT" in the studio's IANA zone. */
export function localTime(instant: Date | string | number, zone: string): string {
  const at = DateTime.fromJSDate(new Date(instant)).setZone(zone);
  return `${at.toFormat("ccc d LLL yyyy, HH:mm")} ${at.offsetNameShort ?? zone}`;
}
