/**
 * Countdowns: every `[data-countdown-to="<ISO instant>"]` element shows the time left as mm:ss
 * (h:mm:ss from an hour up), ticking each second. At zero it shows 00:00, gains
 * `data-countdown-expired` and dispatches a bubbling `countdown-expired` event, so the page can say
 * what expiry means (a hold released, an offer gone). Used by checkout holds and waitlist offers;
 * elements added later (a hold created in the page) are started with `attachCountdown`.
 */

/** Milliseconds left as "mm:ss", or "h:mm:ss" when an hour or more is left; never negative. */
export function formatLeft(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const mm = String(minutes).padStart(2, "0");
  const ss = String(seconds).padStart(2, "0");
  return hours > 0 ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`;
}

const running = new WeakMap<HTMLElement, number>();

/** Starts (or restarts, after its target changed) the countdown on one element. */
export function attachCountdown(element: HTMLElement): void {
  const previous = running.get(element);
  if (previous !== undefined) window.clearInterval(previous);
  element.removeAttribute("data-countdown-expired");
  const target = Date.parse(element.dataset.countdownTo ?? "");
  if (Number.isNaN(target)) return;
  const tick = () => {
    const left = target - Date.now();
    element.textContent = formatLeft(left);
    if (left <= 0) {
      const timer = running.get(element);
      if (timer !== undefined) window.clearInterval(timer);
      running.delete(element);
      element.setAttribute("data-countdown-expired", "");
      element.dispatchEvent(new CustomEvent("countdown-expired", { bubbles: true }));
      return false;
    }
    return true;
  };
  if (tick()) running.set(element, window.setInterval(tick, 1000));
}

/** The feature: every countdown on the page. */
export function startCountdowns(): void {
  for (const element of document.querySelectorAll<HTMLElement>("[data-countdown-to]")) attachCountdown(element);
}
