/**
 * My bookings' calendar feed (`[data-calendar-feed]`, src/pages/me.tsx): "Replace the address"
 * calls POST /api/v1/me/calendar-feed/rotate; the old address stops working at once and the new
 * one is shown in its place.
 */
import { callApi, say } from "./customer-api";

export function startCalendarFeed(): void {
  const box = document.querySelector<HTMLElement>("[data-calendar-feed]");
  const button = box?.querySelector<HTMLButtonElement>("#calendar-feed-rotate");
  const input = box?.querySelector<HTMLInputElement>("#calendar-feed-url");
  const result = box?.querySelector<HTMLElement>("#calendar-feed-result") ?? null;
  if (!button || !input) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    const answer = await callApi<{ url: string }>("POST", "/api/v1/me/calendar-feed/rotate");
    button.disabled = false;
    if (!answer.ok) return say(result, `Could not replace the address: ${answer.message}`, "error");
    input.value = answer.body.url;
    say(result, "Done: the old address no longer works. Subscribe to the new one above.", "success");
  });
}
