/** Which variants of an address count as one for limits (src/domain/email-identity.ts). */
import { describe, expect, it } from "vitest";
import { limitIdentityOf } from "../src/domain/email-identity";

describe("limitIdentityOf", () => {
  it("counts +sub-addresses, case and Gmail's dots and googlemail.com as the address they reach", () => {
    expect(limitIdentityOf("Ann+Promo@Example.com")).toBe("ann@example.com");
    expect(limitIdentityOf("a.n.n+x@gmail.com")).toBe("ann@gmail.com");
    expect(limitIdentityOf("A.NN@googlemail.com")).toBe("ann@gmail.com");
  });

  it("keeps dots where the provider does not ignore them, and leaves odd input alone", () => {
    expect(limitIdentityOf("a.n.n@example.com")).toBe("a.n.n@example.com");
    expect(limitIdentityOf("+x@example.com")).toBe("+x@example.com");
    expect(limitIdentityOf("no-at-sign")).toBe("no-at-sign");
  });
});
