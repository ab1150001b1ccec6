/**
 * The pages' browser bundle, built by scripts/build-client.mjs to /assets/app.js. Each feature
 * finds its elements by data attributes and does nothing on pages without them; add a feature by
 * importing its start function into the list below.
 */
import { startCountdowns } from "./countdown";
import { startLiveSeats } from "./live-seats";
import { startBookingForm } from "./booking-form";
import { startCancelBooking } from "./cancel-booking";
import { startOfferActions } from "./offer-actions";
import { startWaitlistJoin } from "./waitlist-join";
import { startWaitlistConfirm } from "./waitlist-confirm";
import { startNotifyMe } from "./notify-me";
import { startCalendarFeed } from "./calendar-feed";
import { startConsoleActions } from "./console-actions";
import { startConsolePatterns } from "./console-patterns";
import { startConsoleCharts } from "./console-chart";
import { startReopenBooking } from "./reopen-booking";
const FEATURES: Array<[name: string, start: () => void]> = [
  ["console-actions", startConsoleActions],
  ["console-patterns", startConsolePatterns],
  ["console-charts", startConsoleCharts],
  ["countdown", startCountdowns],
  ["live-seats", startLiveSeats],
  ["booking-form", startBookingForm],
  ["reopen-booking", startReopenBooking],
  ["cancel-booking", startCancelBooking],
  ["offer-actions", startOfferActions],
  ["waitlist-join", startWaitlistJoin],
  ["waitlist-confirm", startWaitlistConfirm],
  ["notify-me", startNotifyMe],
  ["calendar-feed", startCalendarFeed],
];

document.addEventListener("DOMContentLoaded", () => {
  for (const [name, start] of FEATURES) {
    try {
      start();
    } catch (error) {
      console.warn(`page feature ${name} failed`, error);
    }
  }
});
