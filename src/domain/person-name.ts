/**
 * A person's name as customers type it (booking, hold and waitlist contacts), checked so that it
 * can be pasted into a message as plain text: it can name someone, and nothing else. Pure.
 *
 * Allowed: letters of any script, combining marks, spaces, apostrophes (' ’), hyphens, commas,
 * middle dots (李·小龙) and periods after a letter ("J. R. R."). Refused: control and format
 * characters (NUL, zero-width, bidi overrides), digits, and anything that can carry a link or an
 * instruction: `:` `/` `\` `@` `<` `>`, a dot directly followed by a letter or digit (a domain,
 * "evil.example"), and "www". The link checks also run on the NFKC form, so full-width look-alikes
 * ("ｗｗｗ", "：") are refused as well.
 */
import { z } from "zod";

export const PERSON_NAME_MAX_LENGTH = 100;

export type PersonNameResult = { ok: true; value: string } | { ok: false; error: string };

/** Characters a name may be made of (the rules below then look at how they are combined). */
const ALLOWED = /^[\p{L}\p{M} '’\-‐,.·・]+$/u;
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}]/u;
const LINK_PUNCTUATION = /[:/\\@<>]/u;
const DOT_BEFORE_LETTER_OR_DIGIT = /\.[\p{L}\p{N}]/u;
const WWW = /(?:^|[^\p{L}\p{M}])www/iu;
const DOT_AFTER_NON_LETTER = /(?:^|[^\p{L}\p{M}])\./u;

/**
 * Checks and normalises a name: trimmed, every kind of space made one plain space, runs of spaces
 * collapsed, NFC. Returns the name to store, or why it is refused (a sentence for the API's
 * validation message).
 */
export function parsePersonName(input: string): PersonNameResult {
  if (INVISIBLE.test(input)) return refuse("must not contain control or invisible formatting characters (such as NUL, zero-width or bidi characters)");
  const value = input.normalize("NFC").replace(/\p{Zs}+/gu, " ").trim();
  const length = Array.from(value).length;
  if (length === 0) return refuse("must not be empty");
  if (length > PERSON_NAME_MAX_LENGTH) return refuse(`must be at most ${PERSON_NAME_MAX_LENGTH} characters`);
  for (const form of [value, value.normalize("NFKC")]) {
    if (LINK_PUNCTUATION.test(form)) return refuse("must not contain : / \\ @ < or >");
    if (DOT_BEFORE_LETTER_OR_DIGIT.test(form)) return refuse("must not contain a dot directly followed by a letter or digit (as in a web address)");
    if (WWW.test(form)) return refuse('must not contain "www"');
  }
  if (!ALLOWED.test(value)) return refuse("may contain only letters, spaces, apostrophes, hyphens, commas and periods after initials");
  if (DOT_AFTER_NON_LETTER.test(value)) return refuse("may contain a period only after a letter, as in J. R. R.");
  return { ok: true, value };
}

/** The validated name to show in a message, or null when `input` is not one (a row stored before the check, say). */
export function displayablePersonName(input: string | null | undefined): string | null {
  if (typeof input !== "string") return null;
  const parsed = parsePersonName(input);
  return parsed.ok ? parsed.value : null;
}

/**
 * The zod schema every route uses for a first or last name: refuses what `parsePersonName`
 * refuses (one issue, at the field's path) and hands on the normalised name.
 */
export const PersonNameSchema = z
  .string()
  .max(1000)
  .superRefine((value, ctx) => {
    const parsed = parsePersonName(value);
    if (!parsed.ok) ctx.addIssue({ code: "custom", message: parsed.error });
  })
  .overwrite((value) => {
    const parsed = parsePersonName(value);
    return parsed.ok ? parsed.value : value;
  });

function refuse(error: string): PersonNameResult {
  return { ok: false, error };
}
