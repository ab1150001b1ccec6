/**
 * The local payment provider's checkout (`/dev/checkout/{paymentId}`, development only): what a
 * provider's hosted page would show, and plain forms for what a customer could do there — pay,
 * have the card declined, or give up. Each posts to this page's own path; the route signs the
 * event the provider would send and settles it through the webhook's handler. No script needed.
 */
import { pounds } from "./format";
import { Layout } from "./layout";

export interface DevCheckoutView {
  id: string;
  description: string;
  amountPence: number;
  status: string;
  paidPence: number;
  refundedPence: number;
  closedReason: string | null;
  expiresAt: string;
}

const STATUS_TEXT: Record<string, string> = {
  unpaid: "Not started",
  pending: "Waiting for payment",
  paid: "Paid",
  partially_refunded: "Paid, partly refunded",
  refunded: "Refunded",
  failed: "Not paid",
};

/** Why the payment is where it is, in words. */
function explain(payment: DevCheckoutView): string {
  if (payment.status === "refunded" && payment.closedReason !== null && payment.closedReason !== "declined") return "The payment arrived after the seats' hold had ended, so it was refunded in full.";
  if (payment.closedReason === "declined" && payment.paidPence === 0) return "The last attempt was declined. You can try again until the hold ends.";
  if (payment.closedReason === "cancelled") return "The checkout was cancelled.";
  if (payment.closedReason === "expired" && payment.paidPence === 0) return "The checkout expired.";
  return "";
}

export function DevCheckoutPage({ payment, success, cancel }: { payment: DevCheckoutView; success: string; cancel: string }) {
  const open = payment.paidPence === 0 && payment.closedReason !== "expired" && payment.closedReason !== "cancelled";
  const action = (what: "pay" | "decline" | "cancel") => `/dev/checkout/${encodeURIComponent(payment.id)}/${what}`;
  const returns = (
    <>
      <input type="hidden" name="success" value={success} />
      <input type="hidden" name="cancel" value={cancel} />
    </>
  );
  const note = explain(payment);
  return (
    <Layout title="Test checkout">
      <p class="notice">Development only: the local payment provider. No money moves; each button sends the signed event a real provider would.</p>
      <section class="card" aria-labelledby="checkout-heading">
        <h2 id="checkout-heading">{payment.description || "Booking"}</h2>
        <dl class="facts">
          <dt>Amount</dt>
          <dd id="checkout-amount">{pounds(payment.amountPence)}</dd>
          <dt>Status</dt>
          <dd id="checkout-status">{STATUS_TEXT[payment.status] ?? payment.status}</dd>
          {payment.refundedPence > 0 ? (
            <>
              <dt>Refunded</dt>
              <dd>{pounds(payment.refundedPence)}</dd>
            </>
          ) : null}
          <dt>Seats held until</dt>
          <dd>
            <time datetime={payment.expiresAt}>{payment.expiresAt.replace("T", " ").replace(/\.\d+Z$/, " UTC")}</time>
          </dd>
        </dl>
        {note ? <p id="checkout-note">{note}</p> : null}
      </section>
      {open ? (
        <div class="actions">
          <form method="post" action={action("pay")} class="inline">
            {returns}
            <button type="submit">Pay {pounds(payment.amountPence)}</button>
          </form>{" "}
          <form method="post" action={action("decline")} class="inline">
            {returns}
            <button type="submit" class="secondary">
              Decline the card
            </button>
          </form>{" "}
          <form method="post" action={action("cancel")} class="inline">
            {returns}
            <button type="submit" class="secondary">
              Cancel
            </button>
          </form>
        </div>
      ) : (
        <p>
          <a href={payment.paidPence > 0 ? success : cancel}>Back to the booking</a>
        </p>
      )}
    </Layout>
  );
}
