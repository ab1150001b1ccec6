/** The pure parts of a studio's session cancellation: each line's refund, and the SESSION_CANCELLED message. */
import { describe, expect, it } from "vitest";
import { renderNotification } from "../src/domain/notification-templates";
import { sessionRefundPence, splitRefund } from "../src/domain/session-refunds";

describe("session refund arithmetic", () => {
  it("gives a line its share of what was paid, never more than is left, less the fee under policy", () => {
    const money = { linePricePence: 2667, totalAmountPence: 8000, paidPence: 8000, leftPence: 8000 };
    expect(sessionRefundPence("full", money, 0)).toBe(2667);
    expect(sessionRefundPence("full", { ...money, paidPence: 4000, leftPence: 4000 }, 0)).toBe(1333);
    expect(sessionRefundPence("full", { ...money, leftPence: 1000 }, 0)).toBe(1000);
    expect(sessionRefundPence("policy", money, 50)).toBe(1334);
    expect(sessionRefundPence("policy", money, 0)).toBe(2667);
    expect(sessionRefundPence("none", money, 0)).toBe(0);
    expect(sessionRefundPence("full", { ...money, paidPence: 0, leftPence: 0 }, 0)).toBe(0);
    expect(splitRefund(3000, [{ paymentId: "a", leftPence: 1000 }, { paymentId: "b", leftPence: 5000 }])).toEqual([{ paymentId: "a", amountPence: 1000 }, { paymentId: "b", amountPence: 2000 }]);
    expect(splitRefund(0, [{ paymentId: "a", leftPence: 1000 }])).toEqual([]);
  });
});

describe("the SESSION_CANCELLED message", () => {
  const base = { className: "Wheel <b>Basics</b>", studioName: "Clay Lab", timeZone: "Europe/London", sessionStartsAt: "2026-06-18T17:00:00Z", reason: "Kiln broken\nCall us" };
  const render = (data: Record<string, unknown>, bookingId?: string) => renderNotification({ kind: "SESSION_CANCELLED", data, recipient: { firstName: "Ada" }, bookingId, baseUrl: "https://book.example.test" });

  it("tells a booker the studio-local time, the reason on one line, the refund and whether the booking stands", () => {
    const rendered = render({ ...base, audience: "booking", seats: 2, refundPence: 2667, bookingStillActive: true }, "bkg_1");
    expect(rendered.ok).toBe(true);
    if (!rendered.ok) return;
    expect(rendered.message.subject).toBe("Cancelled by the studio: Wheel <b>Basics</b>, Thu 18 Jun, 18:00");
    expect(rendered.message.text).toContain("Clay Lab has cancelled Wheel <b>Basics</b> on Thursday 18 June 2026, 18:00 BST");
    expect(rendered.message.text).toContain("Reason: Kiln broken Call us");
    expect(rendered.message.text).toContain("the rest of your booking stands");
    expect(rendered.message.text).toContain("A refund of £26.67");
    expect(rendered.message.text).toContain("Booking reference: bkg_1");
    expect(rendered.message.html).not.toContain("<b>Basics</b>");
  });

  it("tells a waiting party the line is closed, and says nothing of money; refuses data without a reason or audience", () => {
    const rendered = render({ ...base, audience: "waitlist", seats: 1, refundPence: 500 });
    expect(rendered.ok && rendered.message.text).toContain("the waiting list is closed");
    expect(rendered.ok && rendered.message.text).not.toContain("refund");
    const { reason: _reason, ...noReason } = base;
    const missing = render({ ...noReason, audience: "booking" });
    expect(missing.ok).toBe(false);
    expect(!missing.ok && missing.error).toContain("reason");
    expect(render({ ...base, audience: "everyone" }).ok).toBe(false);
  });
});
