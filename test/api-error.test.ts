/** An ApiError is an answer: it carries its code, status and message, and no captured stack; other errors keep theirs. */
import { describe, expect, it } from "vitest";
import { ApiError } from "../src/errors";

describe("ApiError", () => {
  it("captures no stack frames and leaves other errors' stacks alone", () => {
    const error = new ApiError("SESSION_FULL", "This session is full", { sessionId: "ses_1" });
    expect(error).toBeInstanceOf(Error);
    expect({ code: error.code, status: error.status, message: error.message, name: error.name }).toEqual({ code: "SESSION_FULL", status: 409, message: "This session is full", name: "ApiError" });
    expect(error.stack ?? "").not.toMatch(/\n\s+at /);
    // Control: an ordinary error made right after still has its frames.
    expect(new Error("boom").stack).toMatch(/\n\s+at /);
  });
});
