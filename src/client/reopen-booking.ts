/**
 * Coming back from an online checkout. The provider returns the customer to /bookings/{id}/return
 * without the booking's manage token (it is never put in a URL the provider keeps), so the class
 * page keeps it in this tab's sessionStorage before leaving, and the return page
 * (`[data-reopen-booking]`) opens the confirmation with it. Other tabs and devices use the link in
 * the confirmation email, or sign in.
 */
const keyOf = (bookingId: string) => `manage-token:${bookingId}`;

/** Leaves for the provider's checkout, keeping the manage token for the way back. */
export function goToCheckout(bookingId: string, manageToken: string | undefined, checkoutUrl: string): void {
  try {
    if (manageToken) sessionStorage.setItem(keyOf(bookingId), manageToken);
  } catch {
    // Storage refused (private mode): the confirmation email's link still opens the booking.
  }
  window.location.assign(checkoutUrl);
}

/** On the return page: open the confirmation with the token this tab kept. */
export function startReopenBooking(): void {
  const bookingId = document.querySelector<HTMLElement>("[data-reopen-booking]")?.dataset.reopenBooking;
  if (!bookingId) return;
  let token: string | null = null;
  try {
    token = sessionStorage.getItem(keyOf(bookingId));
  } catch {
    return;
  }
  if (token) window.location.replace(`/bookings/${encodeURIComponent(bookingId)}/confirmed?token=${encodeURIComponent(token)}`);
}
