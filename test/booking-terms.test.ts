/** The cancellation policy's arithmetic at its boundaries (src/domain/booking-terms.ts). */
import { describe, expect, it } from "vitest";
import { cancellationCharge, cancellationTermsAt, cancellationTermsView, describeCancellationPolicy, OPEN_POLICY, policyDeadlines } from "../src/domain/booking-terms";

const HOUR = 3_600_000;
const START = Date.UTC(2027, 2, 10, 18, 0);
const policy = { freeCancellationHours: 48, lateCancellationFeePercent: 50, selfCancelCutoffHours: 12 };

describe("cancellation terms", () => {
  it("is free up to and including N hours before the start, then charges the fee", () => {
    expect(cancellationTermsAt(policy, START, START - 48 * HOUR - 1)).toEqual({ window: "free", selfCancellable: true, feePercent: 0 });
    expect(cancellationTermsAt(policy, START, START - 48 * HOUR)).toEqual({ window: "free", selfCancellable: true, feePercent: 0 });
    expect(cancellationTermsAt(policy, START, START - 48 * HOUR + 1)).toEqual({ window: "late", selfCancellable: true, feePercent: 50 });
  });

  it("lets a customer cancel until exactly M hours before, and not after; never once started", () => {
    expect(cancellationTermsAt(policy, START, START - 12 * HOUR).selfCancellable).toBe(true);
    expect(cancellationTermsAt(policy, START, START - 12 * HOUR + 1)).toMatchObject({ window: "closed", selfCancellable: false });
    expect(cancellationTermsAt(policy, START, START)).toMatchObject({ window: "started", selfCancellable: false });
    expect(cancellationTermsAt(OPEN_POLICY, START, START - 1)).toEqual({ window: "free", selfCancellable: true, feePercent: 0 });
    expect(cancellationTermsAt(OPEN_POLICY, START, START).window).toBe("started");
  });

  it("a zero fee leaves every self-cancellation free; a cutoff beyond the free window closes it", () => {
    expect(cancellationTermsAt({ ...policy, lateCancellationFeePercent: 0 }, START, START - HOUR * 13).window).toBe("free");
    const strict = { freeCancellationHours: 2, lateCancellationFeePercent: 50, selfCancelCutoffHours: 24 };
    expect(policyDeadlines(strict, START)).toEqual({ freeUntil: START - 24 * HOUR, selfCancelUntil: START - 24 * HOUR });
    expect(cancellationTermsAt(strict, START, START - 3 * HOUR).window).toBe("closed");
  });

  it("keeps the fee rounded down, so the customer never loses a part-penny", () => {
    expect(cancellationCharge(50, 2501)).toEqual({ feePence: 1250, refundPence: 1251 });
    expect(cancellationCharge(0, 2500)).toEqual({ feePence: 0, refundPence: 2500 });
    expect(cancellationCharge(100, 2500)).toEqual({ feePence: 2500, refundPence: 0 });
    expect(cancellationCharge(33, 1)).toEqual({ feePence: 0, refundPence: 1 });
  });

  it("says the policy in words and gives its deadlines as instants", () => {
    expect(describeCancellationPolicy(OPEN_POLICY)).toBe("Free cancellation until the class starts.");
    expect(describeCancellationPolicy(policy)).toBe(
      "Free cancellation until 48 hours before the start; after that 50% of the price is kept; you can cancel online until 12 hours before the start (after that, ask the studio).",
    );
    expect(describeCancellationPolicy({ freeCancellationHours: 1, lateCancellationFeePercent: 10, selfCancelCutoffHours: null })).toContain("until 1 hour before");
    expect(cancellationTermsView(policy, START)).toEqual({
      summary: describeCancellationPolicy(policy),
      freeCancellationUntil: new Date(START - 48 * HOUR).toISOString(),
      selfCancellationUntil: new Date(START - 12 * HOUR).toISOString(),
      lateCancellationFeePercent: 50,
    });
    // Without a fee the free window is as long as self-service.
    expect(cancellationTermsView(OPEN_POLICY, START).freeCancellationUntil).toBe(new Date(START).toISOString());
  });
});
