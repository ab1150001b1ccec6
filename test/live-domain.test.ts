import { describe, expect, it } from "vitest";
import {
  capacityMessage,
  closeForClientMessage,
  LIVE_CLOSE,
  MAX_CLIENT_MESSAGE_BYTES,
  originAllowed,
  roomForSubscriber,
} from "../src/domain/live";

describe("capacityMessage", () => {
  it("carries exactly the documented fields", () => {
    const text = capacityMessage("capacity", { sessionId: "ses_1", availability: { availableSpots: 0, status: "full" }, waitlistLength: 4, version: 17 });
    expect(JSON.parse(text)).toEqual({ type: "capacity", sessionId: "ses_1", availableSpots: 0, status: "full", waitlistLength: 4, version: 17 });
    const snapshot = capacityMessage("snapshot", { sessionId: "ses_1", availability: { availableSpots: 3, status: "open" }, waitlistLength: 0, version: 0 });
    expect(JSON.parse(snapshot)).toMatchObject({ type: "snapshot", availableSpots: 3, version: 0 });
  });
});

describe("originAllowed", () => {
  const list = ["http://127.0.0.1:8787", " https://Studio.Example/ ", "http://localhost:5173"];

  it("allows listed origins, ignoring case, spaces and a trailing slash", () => {
    expect(originAllowed("http://127.0.0.1:8787", list)).toBe(true);
    expect(originAllowed("https://studio.example", list)).toBe(true);
    expect(originAllowed("HTTP://LOCALHOST:5173", list)).toBe(true);
  });

  it("refuses anything else: other ports, schemes, look-alike hosts, the opaque null origin", () => {
    for (const origin of ["http://localhost:5174", "https://localhost:5173", "http://localhost:5173.evil.example", "https://evil.example", "null", ""]) {
      expect(originAllowed(origin, list), origin).toBe(false);
    }
  });

  it("allows clients without an Origin header, and no browser origin when the list is empty", () => {
    expect(originAllowed(undefined, list)).toBe(true);
    expect(originAllowed(null, [])).toBe(true);
    expect(originAllowed("http://localhost:5173", [])).toBe(false);
    expect(originAllowed("", ["", " "])).toBe(false);
  });
});

// The caps themselves are settings: test/config.test.ts.
describe("roomForSubscriber", () => {
  it("takes subscribers up to the cap and not one more", () => {
    expect(roomForSubscriber(0, 1)).toBe(true);
    expect(roomForSubscriber(2, 3)).toBe(true);
    expect(roomForSubscriber(3, 3)).toBe(false);
    expect(roomForSubscriber(4, 3)).toBe(false);
  });
});

describe("closeForClientMessage", () => {
  it("lets ping through (answered with pong)", () => {
    expect(closeForClientMessage("ping")).toBeNull();
  });

  it("closes with 1008 on any other message within the size limit", () => {
    for (const message of ["pong", "PING", " ping", '{"type":"book"}', "", new Uint8Array([112, 105, 110, 103]).buffer]) {
      expect(closeForClientMessage(message)).toEqual({ code: LIVE_CLOSE.POLICY_VIOLATION, reason: expect.stringContaining("ping") });
    }
    expect(closeForClientMessage("x".repeat(MAX_CLIENT_MESSAGE_BYTES))?.code).toBe(LIVE_CLOSE.POLICY_VIOLATION);
  });

  it("closes with 1009 on a message over the limit, counting UTF-8 bytes", () => {
    expect(closeForClientMessage("x".repeat(MAX_CLIENT_MESSAGE_BYTES + 1))?.code).toBe(LIVE_CLOSE.MESSAGE_TOO_BIG);
    expect(closeForClientMessage("é".repeat(MAX_CLIENT_MESSAGE_BYTES / 2 + 1))?.code).toBe(LIVE_CLOSE.MESSAGE_TOO_BIG);
    expect(closeForClientMessage(new ArrayBuffer(MAX_CLIENT_MESSAGE_BYTES + 1))?.code).toBe(LIVE_CLOSE.MESSAGE_TOO_BIG);
  });

  it("keeps close reasons within the 123 bytes a close frame allows", () => {
    for (const message of ["nope", "x".repeat(1000)]) {
      expect(new TextEncoder().encode(closeForClientMessage(message)!.reason).byteLength).toBeLessThanOrEqual(123);
    }
  });
});
