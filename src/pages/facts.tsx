/**
 * Lines of a `<dl class="facts">` that several customer pages show the same way: which session
 * (class, studio, when in the studio's zone) and what it costs (subtotal and discount when there
 * is one, then the total as `#booking-total`).
 */
import { localTime, pounds } from "./format";

export function SessionFacts({ className, studioName, startsAt, timeZone }: { className: string; studioName: string; startsAt: string; timeZone: string }) {
  return (
    <>
      <dt>Class</dt>
      <dd>{className}</dd>
      <dt>Studio</dt>
      <dd>{studioName}</dd>
      <dt>When</dt>
      <dd>
        <time datetime={startsAt}>{localTime(startsAt, timeZone)}</time>
      </dd>
    </>
  );
}

export function PriceFacts({ subtotalPence, discountPence, totalPence }: { subtotalPence: number; discountPence: number; totalPence: number }) {
  return (
    <>
      {discountPence > 0 ? (
        <>
          <dt>Subtotal</dt>
          <dd>{pounds(subtotalPence)}</dd>
          <dt>Discount</dt>
          <dd>−{pounds(discountPence)}</dd>
        </>
      ) : null}
      <dt>Total</dt>
      <dd id="booking-total">{pounds(totalPence)}</dd>
    </>
  );
}
