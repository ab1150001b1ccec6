/**
 * The manage page's cancel button (`[data-cancel-booking]`, src/pages/manage-booking.tsx): asks
 * once more in the page (no browser dialog), then POST /api/v1/bookings/{id}/cancel with the
 * page's manage token (or the session cookie of the owner or staff) and shows the outcome.
 */
import { callApi, newIdempotencyKey, say } from "./customer-api";

export function startCancelBooking(): void {
  for (const box of document.querySelectorAll<HTMLElement>("[data-cancel-booking]")) wire(box);
}

function wire(box: HTMLElement): void {
  const bookingId = box.dataset.cancelBooking ?? "";
  const token = box.dataset.manageToken ?? "";
  const ask = box.querySelector<HTMLButtonElement>("#cancel-booking");
  const panel = box.querySelector<HTMLElement>("#cancel-confirm-panel");
  const confirm = box.querySelector<HTMLButtonElement>("#cancel-confirm");
  const keep = box.querySelector<HTMLButtonElement>("#cancel-keep");
  const result = box.querySelector<HTMLElement>("#cancel-result");
  if (!ask || !panel || !confirm || !keep) return;
  // One key per page: a retry after a lost answer replays the cancellation instead of repeating it.
  const key = newIdempotencyKey();

  ask.addEventListener("click", () => {
    panel.hidden = false;
    ask.hidden = true;
    confirm.focus();
  });
  keep.addEventListener("click", () => {
    panel.hidden = true;
    ask.hidden = false;
    ask.focus();
  });
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    keep.disabled = true;
    say(result, "Cancelling…", "info");
    const headers: Record<string, string> = { "Idempotency-Key": key };
    if (token) headers["X-Manage-Token"] = token;
    const answer = await callApi<{ status?: string }>("POST", `/api/v1/bookings/${encodeURIComponent(bookingId)}/cancel`, { headers });
    if (answer.ok) {
      panel.hidden = true;
      say(result, "Your booking is cancelled. Your seats are free for someone else.", "success");
      const status = document.getElementById("booking-status");
      if (status) {
        status.textContent = "Cancelled";
        status.dataset.status = "cancelled";
        status.classList.remove("ok");
        status.classList.add("full");
      }
      result?.focus();
      return;
    }
    say(result, `Could not cancel: ${answer.message}`, "error");
    confirm.disabled = false;
    keep.disabled = false;
  });
}
