/**
 * Customers' names (issue 14, item 8): a name can name someone and nothing else, so it is safe to
 * paste into a message. The pure rules (src/domain/person-name.ts), then the routes that take one.
 */
import { describe, expect, it } from "vitest";
import { parsePersonName, PersonNameSchema } from "../src/domain/person-name";
import { postBooking, postHold, singleBookingBody, uniqueEmail } from "./booking-helpers";
import { makeBookableSession } from "./fixtures";
import { fullSession, join, joinBody } from "./waitlist-helpers";

const PHISHING = "Hi there. URGENT: payment failed, pay again at https://evil.example";

describe("parsePersonName", () => {
  it.each([
    ["bidi override U+202E", "Ada\u202Eevil"],
    ["zero-width space U+200B", "A\u200Bda"],
    ["NUL", "Ada\u0000"],
    ["a newline", "Ada\nLovelace"],
    ["the phishing sentence", PHISHING],
    ["a bare domain", "evil.example"],
    ["a domain after a space", "Ada evil.co"],
    ["www", "www evil"],
    ["full-width www", "ｗｗｗ"],
    ["an email address", "ada@example.com"],
    ["a colon", "Note: pay now"],
    ["a slash", "Ada/Lovelace"],
    ["a backslash", "Ada\\Lovelace"],
    ["markup", "<b>Ada</b>"],
    ["digits", "Call 0800 123456"],
    ["a leading period", ".Ada"],
    ["an ellipsis", "Ada..."],
    ["nothing but spaces", "   "],
    ["101 characters", "a".repeat(101)],
  ])("refuses %s", (_label, name) => {
    expect(parsePersonName(name).ok).toBe(false);
  });

  it.each([
    ["Zoë", "Zoë"],
    ["Seán O'Brien", "Seán O'Brien"],
    ["D’Arcy", "D’Arcy"],
    ["José-María", "José-María"],
    ["J. R. R.", "J. R. R."],
    ["李小龙", "李小龙"],
    ["Nguyễn Văn A", "Nguyễn Văn A"],
    ["King, Jr.", "King, Jr."],
    ["  Ada   Lovelace  ", "Ada Lovelace"],
    ["Zoe\u0308", "Zoë"],
    ["a".repeat(100), "a".repeat(100)],
  ])("accepts %s", (name, stored) => {
    expect(parsePersonName(name)).toEqual({ ok: true, value: stored });
  });

  it("is what the zod schema checks, and the schema hands on the normalised name", () => {
    expect(PersonNameSchema.parse("  Seán  O'Brien ")).toBe("Seán O'Brien");
    const refused = PersonNameSchema.safeParse(PHISHING);
    expect(refused.success).toBe(false);
    expect(refused.error?.issues).toHaveLength(1);
  });
});

describe("routes that take a name", () => {
  const issuesOf = (json: { error: { details: { issues: { path: string }[] } } }) => json.error.details.issues.map((issue) => issue.path);

  it("POST /bookings refuses the phishing first name with 400 VALIDATION_FAILED at contact.firstName, and books a real one", async () => {
    const { session } = await makeBookableSession({ pricePence: 1000 });
    const bad = await postBooking(singleBookingBody(session.id, 1000, { contact: { email: uniqueEmail(), firstName: PHISHING, lastName: "Lovelace" } }));
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe("VALIDATION_FAILED");
    expect(issuesOf(bad.json)).toEqual(["contact.firstName"]);

    const invisible = await postBooking(singleBookingBody(session.id, 1000, { contact: { email: uniqueEmail(), firstName: "Ada", lastName: "Love\u202Elace" } }));
    expect(invisible.status).toBe(400);
    expect(issuesOf(invisible.json)).toEqual(["contact.lastName"]);

    const good = await postBooking(singleBookingBody(session.id, 1000, { contact: { email: uniqueEmail(), firstName: " Seán ", lastName: "O'Brien" } }));
    expect(good.status).toBe(201);
    expect(good.json.booking.customer).toMatchObject({ firstName: "Seán", lastName: "O'Brien" });
  });

  it("POST /holds and the waitlist refuse it too", async () => {
    const { session } = await makeBookableSession({ pricePence: 1000 });
    const hold = await postHold({ registrationType: "SINGLE_SESSION", sessionId: session.id, guestCount: 1, contact: { email: uniqueEmail(), firstName: "evil.example", lastName: "X" } });
    expect(hold.status).toBe(400);
    expect(issuesOf(hold.json)).toEqual(["contact.firstName"]);

    const { session: full } = await fullSession([1]);
    const joined = await join(full.id, joinBody(1, { firstName: "A\u200Bda" }));
    expect(joined.status).toBe(400);
    expect(issuesOf(joined.json)).toEqual(["firstName"]);
  });
});
